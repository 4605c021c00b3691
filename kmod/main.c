// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module parameters, init and exit of ilp.ko
 *
 * The Interposition-Layer Protocol: per-hop PSP-encrypted tunnels between
 * hosts and service nodes.  See docs/architecture.md for where each piece
 * of the packet path lives.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/ilp.h>
#include <net/genetlink.h>

#include "ilp.h"

int ilp_family = ILP_AF_DEFAULT;
module_param_named(family, ilp_family, int, 0444);
MODULE_PARM_DESC(family,
		 "Address family number of AF_ILP (default "
		 __stringify(ILP_AF_DEFAULT) ", the retired AF_ECONET)");

static int __init ilp_init(void)
{
	int err;

	/* Known answers first: a wrong KDF would be silently incompatible. */
	err = ilp_psp_selftest();
	if (err)
		return err;
	err = ilp_netns_init();
	if (err)
		return err;
	err = ilp_genl_init();
	if (err)
		goto err_netns;
	err = ilp_upcall_init();
	if (err)
		goto err_genl;
	/*
	 * Last: once the family is registered, sockets can exist and pin
	 * the module, so nothing after this point may fail.
	 */
	err = ilp_af_init();
	if (err)
		goto err_upcall;

	pr_info("ILP %s loaded, AF_ILP is address family %d\n", ILP_VERSION,
		ilp_family);
	return 0;

err_upcall:
	ilp_upcall_exit();
err_genl:
	ilp_genl_exit();
err_netns:
	ilp_netns_exit();
	return err;
}

/*
 * The reverse of init, except that upcalls stop first: while instances
 * still receive, a miss must not build a message for a family or a
 * listener that is gone (upcall.c).  The family goes before the
 * namespaces' state, which its commands use; the instances' sockets close
 * with that state; the release notifier goes once no upcall can be sent.
 */
static void __exit ilp_exit(void)
{
	ilp_af_exit();
	ilp_upcall_stop();
	ilp_genl_exit();
	ilp_netns_exit();
	ilp_upcall_exit();
	/* Cache entries removed before the unload are freed by call_rcu(). */
	rcu_barrier();
}

module_init(ilp_init);
module_exit(ilp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Interposition-Layer Protocol (InterEdge) host and service-node datapath");
MODULE_AUTHOR("The ILP developers");
MODULE_VERSION(ILP_VERSION);
MODULE_ALIAS_NETPROTO(ILP_AF_DEFAULT);
MODULE_ALIAS_GENL_FAMILY(ILP_GENL_NAME);
