// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - the "ilp" generic netlink family
 *
 * The whole control surface of the module.  include/uapi/linux/ilp.h
 * documents every command and attribute.  All commands act on the network
 * namespace of the requesting socket; every command that changes state is
 * GENL_UNS_ADMIN_PERM (CAP_NET_ADMIN over that namespace).
 */
#include <linux/ilp.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "ilp.h"

static struct genl_family ilp_genl_family;

/*
 * No command takes request attributes yet.  With strict validation (the
 * default for a new family) any attribute a request carries is rejected
 * with an extack message rather than silently ignored.
 */
static const struct nla_policy ilp_nl_policy[ILP_A_MAX + 1] = {};

static int ilp_nl_version_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ilp_genl_family, 0,
				ILP_CMD_VERSION_GET);
	if (!hdr)
		goto nla_put_failure;
	if (nla_put_string(msg, ILP_A_VERSION, ILP_VERSION) ||
	    nla_put_u32(msg, ILP_A_FAMILY, ilp_family) ||
	    nla_put_u8(msg, ILP_A_WIRE_VERSION, ILP_WIRE_VERSION))
		goto nla_put_failure;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nla_put_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int ilp_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct ilp_net *in = ilp_pernet(genl_info_net(info));
	u64 cnt[ILP_CNT_MAX];
	struct sk_buff *msg;
	struct nlattr *nest;
	unsigned int open;
	void *hdr;

	ilp_stats_read(&in->stats, cnt);
	mutex_lock(&in->sock_lock);
	open = in->nsocks;
	mutex_unlock(&in->sock_lock);

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ilp_genl_family, 0,
				ILP_CMD_STATS_GET);
	if (!hdr)
		goto nla_put_failure;
	nest = nla_nest_start(msg, ILP_A_STATS);
	if (!nest)
		goto nla_put_failure;
	if (nla_put_u32(msg, ILP_STATS_A_SOCKETS_OPEN, open) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_SOCKETS_CREATED,
			      cnt[ILP_CNT_SOCKETS_CREATED], ILP_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_SOCKETS_REFUSED,
			      cnt[ILP_CNT_SOCKETS_REFUSED], ILP_STATS_A_PAD))
		goto nla_put_failure;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nla_put_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int ilp_nl_stats_reset(struct sk_buff *skb, struct genl_info *info)
{
	struct ilp_net *in = ilp_pernet(genl_info_net(info));

	ilp_stats_reset(&in->stats);
	return 0;
}

static int ilp_nl_fill_sock(struct sk_buff *skb, struct netlink_callback *cb,
			    struct sock *sk)
{
	struct user_namespace *ns = sk_user_ns(NETLINK_CB(cb->skb).sk);
	struct nlattr *nest;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &ilp_genl_family, NLM_F_MULTI, ILP_CMD_SOCK_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);

	nest = nla_nest_start(skb, ILP_A_SOCK);
	if (!nest)
		goto cancel;
	if (nla_put_u64_64bit(skb, ILP_SOCK_A_INODE, sock_i_ino(sk),
			      ILP_SOCK_A_PAD) ||
	    nla_put_u32(skb, ILP_SOCK_A_UID,
			from_kuid_munged(ns, sock_i_uid(sk))) ||
	    nla_put_u16(skb, ILP_SOCK_A_TYPE, sk->sk_type) ||
	    nla_put_u32(skb, ILP_SOCK_A_RMEM, sk_rmem_alloc_get(sk)) ||
	    nla_put_u32(skb, ILP_SOCK_A_WMEM, sk_wmem_alloc_get(sk)))
		goto cancel;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/*
 * Dump cursor: cb->args[0] is the number of sockets already sent.  The
 * list generation goes in cb->seq so that a change between two parts of
 * the dump marks it NLM_F_DUMP_INTR instead of silently skipping or
 * repeating a socket.
 */
static int ilp_nl_sock_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ilp_net *in = ilp_pernet(sock_net(skb->sk));
	unsigned long skip = cb->args[0], idx = 0;
	struct ilp_sock *isk;

	mutex_lock(&in->sock_lock);
	cb->seq = in->sock_gen;
	hlist_for_each_entry(isk, &in->socks, node) {
		if (idx >= skip && ilp_nl_fill_sock(skb, cb, &isk->sk))
			break;
		idx++;
	}
	mutex_unlock(&in->sock_lock);

	cb->args[0] = idx;
	return skb->len;
}

static const struct genl_small_ops ilp_genl_ops[] = {
	{
		.cmd = ILP_CMD_VERSION_GET,
		.doit = ilp_nl_version_get,
	},
	{
		.cmd = ILP_CMD_STATS_GET,
		.doit = ilp_nl_stats_get,
	},
	{
		.cmd = ILP_CMD_STATS_RESET,
		.doit = ilp_nl_stats_reset,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_SOCK_GET,
		.dumpit = ilp_nl_sock_dump,
	},
};

static struct genl_family ilp_genl_family __ro_after_init = {
	.name = ILP_GENL_NAME,
	.version = ILP_GENL_VERSION,
	.maxattr = ILP_A_MAX,
	.policy = ilp_nl_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = ilp_genl_ops,
	.n_small_ops = ARRAY_SIZE(ilp_genl_ops),
};

int ilp_genl_init(void)
{
	return genl_register_family(&ilp_genl_family);
}

void ilp_genl_exit(void)
{
	genl_unregister_family(&ilp_genl_family);
}
