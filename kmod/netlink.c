// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - the "ilp" generic netlink family
 *
 * The whole control surface of the module.  include/uapi/linux/ilp.h
 * documents every command and attribute.  All commands act on the network
 * namespace of the requesting socket; every command that changes state,
 * and the dumps of peers and SAs (who talks to whom, as WireGuard's
 * reads), is GENL_UNS_ADMIN_PERM (CAP_NET_ADMIN over that namespace).
 */
#include <linux/crypto.h>
#include <linux/ilp.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "ilp.h"


/*
 * Strict validation (the default for a new family): an attribute a
 * command does not take is rejected with an extack message, never
 * ignored.  Reply-only attributes have no policy entry for that reason.
 */
static const struct nla_policy ilp_instance_policy[ILP_INSTANCE_A_MAX + 1] = {
	[ILP_INSTANCE_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[ILP_INSTANCE_A_SN_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[ILP_INSTANCE_A_SN_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
};

static const struct nla_policy ilp_key_policy[ILP_KEY_A_MAX + 1] = {
	[ILP_KEY_A_SLOT] = NLA_POLICY_MAX(NLA_U8, 1),
	[ILP_KEY_A_MASTER] = NLA_POLICY_EXACT_LEN(ILP_MASTER_KEY_LEN),
	[ILP_KEY_A_ACTIVE] = { .type = NLA_FLAG },
	[ILP_KEY_A_NEXT_SPI] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy ilp_sa_policy[ILP_SA_A_MAX + 1] = {
	[ILP_SA_A_SPI] = { .type = NLA_U32 },	/* ILP_CMD_SA_DEL's; SA_ALLOC refuses it */
	[ILP_SA_A_VERSION] = NLA_POLICY_MAX(NLA_U8, 1),
	[ILP_SA_A_PEER_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
};

static const struct nla_policy ilp_peer_policy[ILP_PEER_A_MAX + 1] = {
	[ILP_PEER_A_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[ILP_PEER_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[ILP_PEER_A_TX_SPI] = { .type = NLA_U32 },
	[ILP_PEER_A_TX_VERSION] = NLA_POLICY_MAX(NLA_U8, 1),
	[ILP_PEER_A_TX_KEY] = { .type = NLA_BINARY, .len = ILP_PSP_MAX_KEY_LEN },
	[ILP_PEER_A_DIRECT] = NLA_POLICY_MAX(NLA_U8, 1),
};

static const struct nla_policy ilp_pkt_policy[ILP_PKT_A_MAX + 1] = {
	[ILP_PKT_A_PREV_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[ILP_PKT_A_PREV_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[ILP_PKT_A_SERVICE] = { .type = NLA_U32 },
	[ILP_PKT_A_CONN] = { .type = NLA_U64 },
	[ILP_PKT_A_DATA] = { .type = NLA_BINARY, .len = 65535 },
};

static const struct nla_policy ilp_fwd_policy[ILP_PEER_A_MAX + 1] = {
	[ILP_PEER_A_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[ILP_PEER_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
};

static const struct nla_policy ilp_act_policy[ILP_ACT_A_MAX + 1] = {
	[ILP_ACT_A_FORWARD] = NLA_POLICY_NESTED(ilp_fwd_policy),
	[ILP_ACT_A_DROP] = { .type = NLA_FLAG },
	[ILP_ACT_A_DELIVER] = { .type = NLA_FLAG },
};

static const struct nla_policy ilp_cache_policy[ILP_CACHE_A_MAX + 1] = {
	[ILP_CACHE_A_PREV_ADDR] = { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[ILP_CACHE_A_PREV_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[ILP_CACHE_A_SERVICE] = { .type = NLA_U32 },
	[ILP_CACHE_A_CONN] = { .type = NLA_U64 },
	[ILP_CACHE_A_CAPACITY] = NLA_POLICY_MIN(NLA_U32, 1),
	[ILP_CACHE_A_UPCALL_RATE] = { .type = NLA_U32 },
	[ILP_CACHE_A_UPCALL_BURST] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy ilp_nl_policy[ILP_A_MAX + 1] = {
	[ILP_A_PACKET] = NLA_POLICY_NESTED(ilp_pkt_policy),
	[ILP_A_ACTIONS] = NLA_POLICY_NESTED(ilp_act_policy),
	[ILP_A_CACHE] = NLA_POLICY_NESTED(ilp_cache_policy),
	[ILP_A_INSTANCE] = NLA_POLICY_NESTED(ilp_instance_policy),
	[ILP_A_KEY] = NLA_POLICY_NESTED(ilp_key_policy),
	[ILP_A_SA] = NLA_POLICY_NESTED(ilp_sa_policy),
	[ILP_A_PEER] = NLA_POLICY_NESTED(ilp_peer_policy),
};

/**
 * ilp_nl_version_get - ILP_CMD_VERSION_GET: module version, AF_ILP number, wire version
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Return: 0 or a negative errno.
 */
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

/**
 * ilp_nl_stats_get - ILP_CMD_STATS_GET: the namespace's counters (ILP_A_STATS)
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Counters are summed over the CPUs and less the baseline of the last
 * reset.
 *
 * Return: 0 or a negative errno.
 */
static int ilp_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct ilp_net *in = ilp_pernet(genl_info_net(info));
	u32 entries = 0, capacity = 0;
	struct nlattr *nest, *drops;
	struct ilp_instance *inst;
	u64 cnt[ILP_CNT_MAX];
	struct sk_buff *msg;
	unsigned int open;
	int i;
	void *hdr;

	ilp_stats_read(&in->stats, cnt);
	mutex_lock(&in->sock_lock);
	open = in->nsocks;
	mutex_unlock(&in->sock_lock);
	mutex_lock(&in->cfg_lock);
	inst = ilp_instance_get_locked(in);
	if (inst) {
		entries = READ_ONCE(inst->dc.count);
		capacity = READ_ONCE(inst->dc.capacity);
	}
	mutex_unlock(&in->cfg_lock);

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
			      cnt[ILP_CNT_SOCKETS_REFUSED], ILP_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_RX_PACKETS,
			      cnt[ILP_CNT_RX_PACKETS], ILP_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_RX_BYTES,
			      cnt[ILP_CNT_RX_BYTES], ILP_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_CACHE_HIT,
			      cnt[ILP_CNT_CACHE_HIT], ILP_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_CACHE_MISSED,
			      cnt[ILP_CNT_CACHE_MISSED], ILP_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_CACHE_LOST,
			      cnt[ILP_CNT_CACHE_LOST], ILP_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_CACHE_EVICTED,
			      cnt[ILP_CNT_CACHE_EVICTED], ILP_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_TX_PACKETS,
			      cnt[ILP_CNT_TX_PACKETS], ILP_STATS_A_PAD) ||
	    nla_put_u32(msg, ILP_STATS_A_CACHE_ENTRIES, entries) ||
	    nla_put_u32(msg, ILP_STATS_A_CACHE_CAPACITY, capacity) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_CACHE_THROTTLED,
			      cnt[ILP_CNT_CACHE_THROTTLED], ILP_STATS_A_PAD) ||
	    nla_put_u32(msg, ILP_STATS_A_UPCALL_RATE, READ_ONCE(in->upcall_rate)) ||
	    nla_put_u32(msg, ILP_STATS_A_UPCALL_BURST, READ_ONCE(in->upcall_burst)) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_DELIVERED,
			      cnt[ILP_CNT_DELIVERED], ILP_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_STATS_A_SENT, cnt[ILP_CNT_SENT],
			      ILP_STATS_A_PAD))
		goto nla_put_failure;
	drops = nla_nest_start(msg, ILP_STATS_A_DROPS);
	if (!drops)
		goto nla_put_failure;
	/* Attribute type = reason + 1: type 0 is not a valid attribute. */
	for (i = 0; i < __ILP_DROP_MAX; i++)
		if (nla_put_u64_64bit(msg, i + 1, cnt[ILP_CNT_DROP_FIRST + i], 0))
			goto nla_put_failure;
	nla_nest_end(msg, drops);
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nla_put_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/**
 * ilp_nl_stats_reset - ILP_CMD_STATS_RESET: make the counters read 0 from now on
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.
 *
 * Return: 0.
 */
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

/**
 * ilp_nl_sock_dump - ILP_CMD_SOCK_GET (dump): the namespace's AF_ILP sockets
 * @skb: the reply being filled
 * @cb: the dump's state
 *
 * Dump cursor: cb->args[0] is the number of sockets already sent.  The
 * list generation goes in cb->seq so that a change between two parts of
 * the dump marks it NLM_F_DUMP_INTR instead of silently skipping or
 * repeating a socket.
 *
 * Return: the dump's length so far, 0 at its end, or a negative errno.
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


/* Parses the nest @type of a request into @tb; absent nest: all NULL. */
static int ilp_nl_nest(struct genl_info *info, int type, struct nlattr **tb,
		       int max, const struct nla_policy *policy)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	if (!info->attrs[type])
		return 0;
	return nla_parse_nested(tb, max, info->attrs[type], policy,
				info->extack);
}

/*
 * Runs with the namespace's cfg_lock held and its instance looked up;
 * commands that need an instance say so with an extack message.
 */
static struct ilp_instance *ilp_nl_instance(struct genl_info *info,
					    struct ilp_net **inp)
{
	struct ilp_net *in = ilp_pernet(genl_info_net(info));
	struct ilp_instance *inst;

	mutex_lock(&in->cfg_lock);
	inst = ilp_instance_get_locked(in);
	if (!inst) {
		mutex_unlock(&in->cfg_lock);
		NL_SET_ERR_MSG(info->extack,
			       "no ILP instance in this network namespace");
		return NULL;
	}
	*inp = in;
	return inst;
}

/**
 * ilp_nl_instance_new - ILP_CMD_INSTANCE_NEW: create the namespace's instance
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Opens its UDP encapsulation sockets on ILP_INSTANCE_A_PORT.  Admin.
 * Return: 0, -EEXIST when there is one, or a negative errno.
 */
static int ilp_nl_instance_new(struct sk_buff *skb, struct genl_info *info)
{
	struct ilp_net *in = ilp_pernet(genl_info_net(info));
	struct nlattr *tb[ILP_INSTANCE_A_MAX + 1];
	u16 port = ILP_UDP_PORT;
	int err;

	err = ilp_nl_nest(info, ILP_A_INSTANCE, tb, ILP_INSTANCE_A_MAX,
			  ilp_instance_policy);
	if (err)
		return err;
	if (tb[ILP_INSTANCE_A_PORT])
		port = nla_get_u16(tb[ILP_INSTANCE_A_PORT]);
	mutex_lock(&in->cfg_lock);
	err = ilp_instance_new(genl_info_net(info), port, info->extack);
	mutex_unlock(&in->cfg_lock);
	return err;
}

/**
 * ilp_nl_instance_del - ILP_CMD_INSTANCE_DEL: destroy the instance, its peers and SAs
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.
 *
 * Return: 0 or -ENOENT without an instance.
 */
static int ilp_nl_instance_del(struct sk_buff *skb, struct genl_info *info)
{
	struct ilp_net *in = ilp_pernet(genl_info_net(info));
	int err;

	mutex_lock(&in->cfg_lock);
	err = ilp_instance_del(genl_info_net(info), info->extack);
	mutex_unlock(&in->cfg_lock);
	return err;
}

/**
 * ilp_nl_instance_set - ILP_CMD_INSTANCE_SET: change the instance (its default SN)
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.
 *
 * Return: 0 or a negative errno, with an extack message.
 */
static int ilp_nl_instance_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_INSTANCE_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_peer_key sn = {};
	struct nlattr *addr;
	struct ilp_net *in;
	int err;

	err = ilp_nl_nest(info, ILP_A_INSTANCE, tb, ILP_INSTANCE_A_MAX,
			  ilp_instance_policy);
	if (err)
		return err;
	if (tb[ILP_INSTANCE_A_PORT]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[ILP_INSTANCE_A_PORT],
				    "the port of an instance cannot change; delete and add it");
		return -EINVAL;
	}
	addr = tb[ILP_INSTANCE_A_SN_ADDR];
	if (!addr) {
		NL_SET_ERR_MSG(info->extack, "nothing to set: give the default SN's address");
		return -EINVAL;
	}
	if (nla_len(addr) == 4 || nla_len(addr) == 16) {
		sn.family = nla_len(addr) == 4 ? AF_INET : AF_INET6;
		memcpy(&sn.addr, nla_data(addr), nla_len(addr));
		sn.port = htons(tb[ILP_INSTANCE_A_SN_PORT] ?
				nla_get_u16(tb[ILP_INSTANCE_A_SN_PORT]) :
				ILP_UDP_PORT);
	} else if (nla_len(addr)) {
		NL_SET_ERR_MSG_ATTR(info->extack, addr,
				    "an address is 4 (IPv4) or 16 (IPv6) bytes, or empty to clear");
		return -EINVAL;
	}
	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	err = ilp_instance_set_sn(inst, sn.family ? &sn : NULL);
	mutex_unlock(&in->cfg_lock);
	return err;
}

/* Starts a reply to @info; NULL when out of memory. */
static void *ilp_nl_reply(struct genl_info *info, struct sk_buff **msgp)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	void *hdr;

	if (!msg)
		return NULL;
	hdr = genlmsg_put_reply(msg, info, &ilp_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	*msgp = msg;
	return hdr;
}

/**
 * ilp_nl_instance_get - ILP_CMD_INSTANCE_GET: the instance's port and default SN
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Return: 0 or -ENOENT without an instance.
 */
static int ilp_nl_instance_get(struct sk_buff *skb, struct genl_info *info)
{
	struct ilp_instance *inst;
	struct ilp_assoc *sn;
	struct sk_buff *msg;
	struct ilp_net *in;
	struct nlattr *nest;
	void *hdr;
	int err = -EMSGSIZE;

	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	hdr = ilp_nl_reply(info, &msg);
	if (!hdr) {
		err = -ENOMEM;
		goto out;
	}
	nest = nla_nest_start(msg, ILP_A_INSTANCE);
	sn = rcu_dereference_protected(inst->sn, lockdep_is_held(&in->cfg_lock));
	if (!nest || nla_put_u16(msg, ILP_INSTANCE_A_PORT, inst->port) ||
	    (sn && (nla_put(msg, ILP_INSTANCE_A_SN_ADDR,
			    sn->sn.family == AF_INET ? 4 : 16, &sn->sn.addr) ||
		    nla_put_u16(msg, ILP_INSTANCE_A_SN_PORT, ntohs(sn->sn.port))))) {
		nlmsg_free(msg);
		goto out;
	}
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
out:
	mutex_unlock(&in->cfg_lock);
	return err;
}

/*
 * The first SPI number of the key of a KEY_SET or KEY_ROTATE: 1 for a
 * generated key (nothing was ever allocated under it), ILP_KEY_A_NEXT_SPI
 * (default 1) for an imported one.
 *
 * Return: it, or a negative errno.
 */
static int ilp_nl_key_first_spi(struct nlattr **tb, struct netlink_ext_ack *extack)
{
	if (!tb[ILP_KEY_A_NEXT_SPI])
		return 1;
	if (!tb[ILP_KEY_A_MASTER]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ILP_KEY_A_NEXT_SPI],
				    "a generated key numbers its SPIs itself: a next SPI goes with an imported key");
		return -EINVAL;
	}
	if (nla_get_u32(tb[ILP_KEY_A_NEXT_SPI]) > 0x7fffffff) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ILP_KEY_A_NEXT_SPI],
				    "an SPI number is 1 to 0x7fffffff (the top bit is the slot)");
		return -EINVAL;
	}
	return nla_get_u32(tb[ILP_KEY_A_NEXT_SPI]);
}

/**
 * ilp_nl_key_set - ILP_CMD_KEY_SET: install a PSP master key in a slot
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.  Replacing a slot's key removes the receive SAs under the old
 * one.
 *
 * Return: 0 or a negative errno, with an extack message.
 */
static int ilp_nl_key_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_KEY_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_net *in;
	int err;

	err = ilp_nl_nest(info, ILP_A_KEY, tb, ILP_KEY_A_MAX, ilp_key_policy);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(info->extack, info->attrs[ILP_A_KEY], tb,
			      ILP_KEY_A_SLOT)) {
		NL_SET_ERR_MSG(info->extack, "a slot is required");
		return -EINVAL;
	}
	err = ilp_nl_key_first_spi(tb, info->extack);
	if (err < 0)
		return err;
	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	err = ilp_key_set(inst, nla_get_u8(tb[ILP_KEY_A_SLOT]),
			  tb[ILP_KEY_A_MASTER] ? nla_data(tb[ILP_KEY_A_MASTER]) : NULL,
			  err, nla_get_flag(tb[ILP_KEY_A_ACTIVE]), info->extack);
	mutex_unlock(&in->cfg_lock);
	return err;
}

/**
 * ilp_nl_key_rotate - ILP_CMD_KEY_ROTATE: a new key in the inactive slot, made active
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.  SAs under the previously active key live on.
 *
 * Return: 0 or a
 * negative errno, with an extack message.
 */
static int ilp_nl_key_rotate(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_KEY_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_net *in;
	int err;

	err = ilp_nl_nest(info, ILP_A_KEY, tb, ILP_KEY_A_MAX, ilp_key_policy);
	if (err)
		return err;
	if (tb[ILP_KEY_A_SLOT]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[ILP_KEY_A_SLOT],
				    "rotation takes no slot (it uses the inactive one)");
		return -EINVAL;
	}
	err = ilp_nl_key_first_spi(tb, info->extack);
	if (err < 0)
		return err;
	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	err = ilp_key_set(inst, inst->active ^ 1,
			  tb[ILP_KEY_A_MASTER] ? nla_data(tb[ILP_KEY_A_MASTER]) : NULL,
			  err, true, info->extack);
	mutex_unlock(&in->cfg_lock);
	return err;
}

/*
 * ILP_KEY_A_AEAD_DRIVER: the AES-GCM driver of a receive SA of @inst, or,
 * without one, the driver a new SA would get.  cfg_lock held.
 */
static int ilp_nl_put_aead_driver(struct sk_buff *msg,
				  struct ilp_instance *inst)
{
	char name[CRYPTO_MAX_ALG_NAME];
	struct ilp_rx_sa *sa;

	sa = list_first_entry_or_null(&inst->rx_sa_list, struct ilp_rx_sa, list);
	if (sa)
		return nla_put_string(msg, ILP_KEY_A_AEAD_DRIVER,
				      ilp_psp_aead_driver(sa->aead));
	if (ilp_psp_aead_probe_driver(name, sizeof(name)))
		return 0;
	return nla_put_string(msg, ILP_KEY_A_AEAD_DRIVER, name);
}

/**
 * ilp_nl_key_get - ILP_CMD_KEY_GET: which master key slots are in use
 * @skb: the request
 * @info: its attributes and reply address
 *
 * Replies with the active slot, the slots holding a key and the AES-GCM
 * driver (ILP_KEY_A_AEAD_DRIVER); never a key.
 *
 * Return: 0 or a negative errno (-ENOENT without an instance).
 */
static int ilp_nl_key_get(struct sk_buff *skb, struct genl_info *info)
{
	struct ilp_instance *inst;
	struct sk_buff *msg;
	struct ilp_net *in;
	struct nlattr *nest;
	int err = -EMSGSIZE;
	unsigned int i;
	void *hdr;

	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	hdr = ilp_nl_reply(info, &msg);
	if (!hdr) {
		err = -ENOMEM;
		goto out;
	}
	nest = nla_nest_start(msg, ILP_A_KEY);
	if (!nest || nla_put_u8(msg, ILP_KEY_A_ACTIVE_SLOT, inst->active))
		goto fail;
	for (i = 0; i < 2; i++) {
		if (!inst->master[i])
			continue;
		if (nla_put_u8(msg, ILP_KEY_A_SLOT_PRESENT, i) ||
		    nla_put_u32(msg, ILP_KEY_A_NEXT_SPI, i << 31 | inst->next_spi[i]) ||
		    (inst->key_generated[i] &&
		     nla_put_u8(msg, ILP_KEY_A_SLOT_GENERATED, i)))
			goto fail;
	}
	if (ilp_nl_put_aead_driver(msg, inst))
		goto fail;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
	goto out;
fail:
	nlmsg_free(msg);
out:
	mutex_unlock(&in->cfg_lock);
	return err;
}

/* Fills @key's family and address from @addr (4 or 16 bytes); port 0. */
static int ilp_nl_addr(const struct nlattr *addr, struct ilp_peer_key *key,
		       struct netlink_ext_ack *extack)
{
	memset(key, 0, sizeof(*key));
	if (nla_len(addr) == 4) {
		key->family = AF_INET;
		memcpy(&key->addr.v4, nla_data(addr), 4);
	} else if (nla_len(addr) == 16) {
		key->family = AF_INET6;
		memcpy(&key->addr.v6, nla_data(addr), 16);
	} else {
		NL_SET_ERR_MSG_ATTR(extack, addr, "an address is 4 (IPv4) or 16 (IPv6) bytes");
		return -EINVAL;
	}
	return 0;
}

/**
 * ilp_nl_sa_alloc - ILP_CMD_SA_ALLOC: allocate a receive SA under the active key
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.  Replies with the SPI and the key its sender needs.
 *
 * Return: 0
 * or a negative errno, with an extack message.
 */
static int ilp_nl_sa_alloc(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_SA_A_MAX + 1];
	u8 key[ILP_PSP_MAX_KEY_LEN];
	struct ilp_peer_key peer;
	struct ilp_instance *inst;
	struct sk_buff *msg;
	struct ilp_net *in;
	struct nlattr *nest;
	u8 version = 0;
	void *hdr;
	u32 spi;
	int err;

	err = ilp_nl_nest(info, ILP_A_SA, tb, ILP_SA_A_MAX, ilp_sa_policy);
	if (err)
		return err;
	if (tb[ILP_SA_A_SPI]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[ILP_SA_A_SPI],
				    "the kernel picks the SPI of a new SA");
		return -EINVAL;
	}
	if (tb[ILP_SA_A_VERSION])
		version = nla_get_u8(tb[ILP_SA_A_VERSION]);
	if (NL_REQ_ATTR_CHECK(info->extack, info->attrs[ILP_A_SA], tb,
			      ILP_SA_A_PEER_ADDR)) {
		NL_SET_ERR_MSG(info->extack,
			       "an SA is allocated for one peer: ILP_SA_A_PEER_ADDR is required");
		return -EINVAL;
	}
	err = ilp_nl_addr(tb[ILP_SA_A_PEER_ADDR], &peer, info->extack);
	if (err)
		return err;
	hdr = ilp_nl_reply(info, &msg);
	if (!hdr)
		return -ENOMEM;
	inst = ilp_nl_instance(info, &in);
	if (!inst) {
		nlmsg_free(msg);
		return -ENOENT;
	}
	err = ilp_sa_alloc(inst, version, &peer, &spi, key, info->extack);
	mutex_unlock(&in->cfg_lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	nest = nla_nest_start(msg, ILP_A_SA);
	if (!nest || nla_put_u32(msg, ILP_SA_A_SPI, spi) ||
	    nla_put_u8(msg, ILP_SA_A_VERSION, version) ||
	    nla_put(msg, ILP_SA_A_KEY, version ? 32 : 16, key)) {
		memzero_explicit(key, sizeof(key));
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	memzero_explicit(key, sizeof(key));
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/**
 * ilp_nl_sa_del - ILP_CMD_SA_DEL: withdraw a receive SA
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.  Takes ILP_SA_A_SPI alone: the SPI names the SA, and another
 * attribute would only be ignored.  Returns once no packet is being
 * decrypted with the SA any more (ilp_sa_del()).
 *
 * Return: 0, -ENOENT for no such SA (or no instance), or a negative
 * errno, with an extack message.
 */
static int ilp_nl_sa_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_SA_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_net *in;
	int err;

	err = ilp_nl_nest(info, ILP_A_SA, tb, ILP_SA_A_MAX, ilp_sa_policy);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(info->extack, info->attrs[ILP_A_SA], tb,
			      ILP_SA_A_SPI)) {
		NL_SET_ERR_MSG(info->extack,
			       "the SA to withdraw is named by its SPI: ILP_SA_A_SPI is required");
		return -EINVAL;
	}
	if (tb[ILP_SA_A_VERSION] || tb[ILP_SA_A_PEER_ADDR]) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    tb[ILP_SA_A_VERSION] ?: tb[ILP_SA_A_PEER_ADDR],
				    "an SA is withdrawn by its SPI alone");
		return -EINVAL;
	}
	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	err = ilp_sa_del(inst, nla_get_u32(tb[ILP_SA_A_SPI]), info->extack);
	mutex_unlock(&in->cfg_lock);
	return err;
}

/**
 * ilp_nl_sa_dump - ILP_CMD_SA_GET (dump): the receive SAs, without keys
 * @skb: the reply being filled
 * @cb: the dump's state; cb->args[0] is the number of entries already sent
 *
 * Admin.
 *
 * Return: the dump's length so far, 0 at its end, or a negative
 * errno.
 */
static int ilp_nl_sa_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ilp_net *in = ilp_pernet(sock_net(skb->sk));
	unsigned long skip = cb->args[0], idx = 0;
	struct ilp_instance *inst;
	struct ilp_rx_sa *sa;
	struct nlattr *nest;
	u64 packets, bytes;
	void *hdr;

	mutex_lock(&in->cfg_lock);
	inst = ilp_instance_get_locked(in);
	if (!inst)
		goto out;
	cb->seq = inst->gen;
	list_for_each_entry(sa, &inst->rx_sa_list, list) {
		if (idx < skip) {
			idx++;
			continue;
		}
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &ilp_genl_family,
				  NLM_F_MULTI, ILP_CMD_SA_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		ilp_traffic_read(sa->traffic, &packets, &bytes);
		nest = nla_nest_start(skb, ILP_A_SA);
		if (!nest || nla_put_u32(skb, ILP_SA_A_SPI, sa->spi) ||
		    nla_put_u8(skb, ILP_SA_A_VERSION, sa->version) ||
		    nla_put(skb, ILP_SA_A_PEER_ADDR,
			    sa->peer.family == AF_INET ? 4 : 16, &sa->peer.addr) ||
		    nla_put_u64_64bit(skb, ILP_SA_A_PACKETS, packets, ILP_SA_A_PAD) ||
		    nla_put_u64_64bit(skb, ILP_SA_A_BYTES, bytes, ILP_SA_A_PAD)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		nla_nest_end(skb, nest);
		genlmsg_end(skb, hdr);
		idx++;
	}
out:
	mutex_unlock(&in->cfg_lock);
	cb->args[0] = idx;
	return skb->len;
}

/* Fills @key from ILP_PEER_A_ADDR and ILP_PEER_A_PORT. */
static int ilp_nl_peer_key(struct nlattr **tb, struct ilp_peer_key *key,
			   struct netlink_ext_ack *extack)
{
	struct nlattr *addr = tb[ILP_PEER_A_ADDR];

	memset(key, 0, sizeof(*key));
	if (!addr) {
		NL_SET_ERR_MSG(extack, "the peer's address is required");
		return -EINVAL;
	}
	if (nla_len(addr) == 4) {
		key->family = AF_INET;
		memcpy(&key->addr.v4, nla_data(addr), 4);
	} else if (nla_len(addr) == 16) {
		key->family = AF_INET6;
		memcpy(&key->addr.v6, nla_data(addr), 16);
	} else {
		NL_SET_ERR_MSG_ATTR(extack, addr, "an address is 4 (IPv4) or 16 (IPv6) bytes");
		return -EINVAL;
	}
	key->port = htons(tb[ILP_PEER_A_PORT] ? nla_get_u16(tb[ILP_PEER_A_PORT]) :
			  ILP_UDP_PORT);
	return 0;
}

/* Checks the transmit-SA attributes: all three or none. */
static int ilp_nl_tx_sa(struct nlattr **tb, bool required,
			struct netlink_ext_ack *extack)
{
	int n = !!tb[ILP_PEER_A_TX_SPI] + !!tb[ILP_PEER_A_TX_VERSION] +
		!!tb[ILP_PEER_A_TX_KEY];
	u8 version;

	if (n == 0 && !required)
		return 0;
	if (n != 3) {
		NL_SET_ERR_MSG(extack, "a transmit SA needs an SPI, a version and a key");
		return -EINVAL;
	}
	if (!(nla_get_u32(tb[ILP_PEER_A_TX_SPI]) & 0x7fffffff)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ILP_PEER_A_TX_SPI],
				    "an SPI's low 31 bits cannot be zero");
		return -EINVAL;
	}
	version = nla_get_u8(tb[ILP_PEER_A_TX_VERSION]);
	if (nla_len(tb[ILP_PEER_A_TX_KEY]) != (version ? 32 : 16)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[ILP_PEER_A_TX_KEY],
				    "the key is 16 bytes for version 0, 32 for version 1");
		return -EINVAL;
	}
	return 1;
}

static int ilp_nl_peer_change(struct genl_info *info, u8 cmd)
{
	struct nlattr *tb[ILP_PEER_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_peer_key key;
	struct ilp_net *in;
	int err, has_tx = 0;

	err = ilp_nl_nest(info, ILP_A_PEER, tb, ILP_PEER_A_MAX, ilp_peer_policy);
	if (err)
		return err;
	err = ilp_nl_peer_key(tb, &key, info->extack);
	if (err)
		return err;
	if (cmd != ILP_CMD_PEER_DEL) {
		/* A set changes the SA, or only whether the peer is direct. */
		has_tx = ilp_nl_tx_sa(tb, cmd == ILP_CMD_PEER_SET &&
				      !tb[ILP_PEER_A_DIRECT], info->extack);
		if (has_tx < 0)
			return has_tx;
	}
	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	if (cmd == ILP_CMD_PEER_DEL) {
		err = ilp_peer_del(inst, &key, info->extack);
		/* Its decisions go with it: none may still name it. */
		if (!err)
			ilp_dc_del_peer(&inst->dc, &key);
	} else {
		if (cmd == ILP_CMD_PEER_NEW)
			err = ilp_peer_add(inst, &key, info->extack);
		if (!err && has_tx)
			err = ilp_peer_set_tx(inst, &key,
					      nla_get_u32(tb[ILP_PEER_A_TX_SPI]),
					      nla_get_u8(tb[ILP_PEER_A_TX_VERSION]),
					      nla_data(tb[ILP_PEER_A_TX_KEY]),
					      info->extack);
		if (!err && tb[ILP_PEER_A_DIRECT])
			err = ilp_peer_set_direct(inst, &key,
						  nla_get_u8(tb[ILP_PEER_A_DIRECT]),
						  info->extack);
		if (err && cmd == ILP_CMD_PEER_NEW && err != -EEXIST)
			ilp_peer_del(inst, &key, NULL);
	}
	mutex_unlock(&in->cfg_lock);
	return err;
}

/**
 * ilp_nl_peer_new - ILP_CMD_PEER_NEW: add a peer, with a transmit SA or not
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.
 *
 * Return: 0 or a negative errno, with an extack message.
 */
static int ilp_nl_peer_new(struct sk_buff *skb, struct genl_info *info)
{
	return ilp_nl_peer_change(info, ILP_CMD_PEER_NEW);
}

/**
 * ilp_nl_peer_set - ILP_CMD_PEER_SET: change a peer's transmit SA or direct flag
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.
 *
 * Return: 0 or a negative errno, with an extack message.
 */
static int ilp_nl_peer_set(struct sk_buff *skb, struct genl_info *info)
{
	return ilp_nl_peer_change(info, ILP_CMD_PEER_SET);
}

/**
 * ilp_nl_peer_del - ILP_CMD_PEER_DEL: remove a peer and its cache entries
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.  The decisions from the peer's address and those forwarding to
 * it go too (ilp_dc_del_peer()), so that the listener decides their
 * flows again rather than the cache sending to a peer that is gone.
 *
 * Return: 0 or a negative errno, with an extack message.
 */
static int ilp_nl_peer_del(struct sk_buff *skb, struct genl_info *info)
{
	return ilp_nl_peer_change(info, ILP_CMD_PEER_DEL);
}

static int ilp_nl_fill_peer(struct sk_buff *skb, struct netlink_callback *cb,
			    struct ilp_peer *p, struct ilp_net *in)
{
	const struct ilp_tx_sa *tx;
	struct nlattr *nest;
	u64 packets, bytes;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &ilp_genl_family, NLM_F_MULTI, ILP_CMD_PEER_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	nest = nla_nest_start(skb, ILP_A_PEER);
	if (!nest)
		goto cancel;
	if (nla_put(skb, ILP_PEER_A_ADDR, p->key.family == AF_INET ? 4 : 16,
		    &p->key.addr) ||
	    nla_put_u16(skb, ILP_PEER_A_PORT, ntohs(p->key.port)))
		goto cancel;
	if (p->direct && nla_put_u8(skb, ILP_PEER_A_DIRECT, 1))
		goto cancel;
	tx = rcu_dereference_protected(p->tx, lockdep_is_held(&in->cfg_lock));
	if (tx && (nla_put_u32(skb, ILP_PEER_A_TX_SPI, tx->spi) ||
		   nla_put_u8(skb, ILP_PEER_A_TX_VERSION, tx->version)))
		goto cancel;
	ilp_traffic_read(p->tx_traffic, &packets, &bytes);
	if (nla_put_u64_64bit(skb, ILP_PEER_A_TX_PACKETS, packets, ILP_PEER_A_PAD) ||
	    nla_put_u64_64bit(skb, ILP_PEER_A_TX_BYTES, bytes, ILP_PEER_A_PAD))
		goto cancel;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/**
 * ilp_nl_peer_dump - ILP_CMD_PEER_GET (dump): the peers, without keys
 * @skb: the reply being filled
 * @cb: the dump's state
 *
 * Admin.
 *
 * Return: the dump's length so far, 0 at its end, or a negative
 * errno.
 */
static int ilp_nl_peer_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ilp_net *in = ilp_pernet(sock_net(skb->sk));
	unsigned long skip = cb->args[0], idx = 0;
	struct ilp_instance *inst;
	struct ilp_peer *p;

	mutex_lock(&in->cfg_lock);
	inst = ilp_instance_get_locked(in);
	if (inst) {
		cb->seq = inst->gen;
		list_for_each_entry(p, &inst->peer_list, list) {
			if (idx >= skip && ilp_nl_fill_peer(skb, cb, p, in))
				break;
			idx++;
		}
	}
	mutex_unlock(&in->cfg_lock);
	cb->args[0] = idx;
	return skb->len;
}


/* Parses ILP_A_ACTIONS into @acts; an absent nest means "drop". */
static int ilp_nl_actions(struct genl_info *info, struct ilp_actions *acts)
{
	struct nlattr *tb[ILP_PEER_A_MAX + 1];
	struct nlattr *a;
	int rem, err;

	memset(acts, 0, sizeof(*acts));
	if (!info->attrs[ILP_A_ACTIONS]) {
		NL_SET_ERR_MSG(info->extack, "a decision (ILP_A_ACTIONS) is required");
		return -EINVAL;
	}
	nla_for_each_nested(a, info->attrs[ILP_A_ACTIONS], rem) {
		switch (nla_type(a)) {
		case ILP_ACT_A_DROP:
			acts->drop = true;
			break;
		case ILP_ACT_A_DELIVER:
			acts->deliver = true;
			break;
		case ILP_ACT_A_FORWARD:
			if (acts->n_fwd == ILP_MAX_FORWARD) {
				NL_SET_ERR_MSG_ATTR(info->extack, a, "too many next hops");
				return -E2BIG;
			}
			err = nla_parse_nested(tb, ILP_PEER_A_MAX, a, ilp_fwd_policy,
					       info->extack);
			if (err)
				return err;
			err = ilp_nl_peer_key(tb, &acts->fwd[acts->n_fwd], info->extack);
			if (err)
				return err;
			acts->n_fwd++;
			break;
		}
	}
	if (acts->drop && (acts->n_fwd || acts->deliver)) {
		NL_SET_ERR_MSG(info->extack, "a decision either drops or forwards and delivers");
		return -EINVAL;
	}
	return 0;
}

/* Fills the previous hop of @key from an address and a port attribute. */
static int ilp_nl_prev(struct nlattr *addr, struct nlattr *port,
		       struct ilp_peer_key *prev, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[ILP_PEER_A_MAX + 1] = {
		[ILP_PEER_A_ADDR] = addr,
		[ILP_PEER_A_PORT] = port,
	};

	return ilp_nl_peer_key(tb, prev, extack);
}

/* The flow of ILP_A_CACHE: previous hop, service and connection. */
static int ilp_nl_flow(struct genl_info *info, struct nlattr **tb,
		       struct ilp_flow_key *key)
{
	int err;

	memset(key, 0, sizeof(*key));
	err = ilp_nl_nest(info, ILP_A_CACHE, tb, ILP_CACHE_A_MAX, ilp_cache_policy);
	if (err)
		return err;
	if (!tb[ILP_CACHE_A_SERVICE] || !tb[ILP_CACHE_A_CONN]) {
		NL_SET_ERR_MSG(info->extack, "a flow needs a previous hop, a service and a connection");
		return -EINVAL;
	}
	if (tb[ILP_CACHE_A_PREV_PORT]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[ILP_CACHE_A_PREV_PORT],
				    "flows are keyed by the previous hop's address only; give no port");
		return -EINVAL;
	}
	err = ilp_nl_prev(tb[ILP_CACHE_A_PREV_ADDR], NULL, &key->prev,
			  info->extack);
	if (err)
		return err;
	key->prev.port = 0;	/* flows are keyed by address only */
	key->service = nla_get_u32(tb[ILP_CACHE_A_SERVICE]);
	key->conn = nla_get_u64(tb[ILP_CACHE_A_CONN]);
	return 0;
}

/**
 * ilp_nl_listen - ILP_CMD_LISTEN: the requesting socket takes the upcalls
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * One listener per namespace: a second one is refused while the first
 * lives (its socket's release clears it, upcall.c), so that a daemon
 * cannot silently lose its misses to another process.  The listener may
 * repeat the request.  Admin.
 *
 * Return: 0, -EBUSY while another listener lives, or a negative errno.
 */
static int ilp_nl_listen(struct sk_buff *skb, struct genl_info *info)
{
	struct ilp_net *in = ilp_pernet(genl_info_net(info));
	u32 old;

	if (!ilp_upcalls_enabled()) {
		NL_SET_ERR_MSG(info->extack, "the module is being unloaded");
		return -ESHUTDOWN;
	}
	old = cmpxchg(&in->listener, 0, info->snd_portid);
	if (old && old != info->snd_portid) {
		NL_SET_ERR_MSG(info->extack,
			       "another socket is this namespace's upcall listener; it must close first");
		return -EBUSY;
	}
	return 0;
}

/**
 * ilp_nl_execute - ILP_CMD_EXECUTE: carry out the listener's decision on a packet
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.  The packet (ILP_A_PACKET) is what an upcall carried; it goes
 * through execute.c as a cache hit would, without the DS field it
 * arrived with.
 *
 * Return: 0 or a negative errno, with an extack message.
 */
static int ilp_nl_execute(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_PKT_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_actions acts;
	struct ilp_flow_key key;
	struct sk_buff *pkt;
	struct ilpw_hdr hdr;
	struct ilp_net *in;
	int len, err;

	err = ilp_nl_nest(info, ILP_A_PACKET, tb, ILP_PKT_A_MAX, ilp_pkt_policy);
	if (err)
		return err;
	if (!tb[ILP_PKT_A_DATA]) {
		NL_SET_ERR_MSG(info->extack, "the packet (ILP_PKT_A_DATA) is required");
		return -EINVAL;
	}
	len = nla_len(tb[ILP_PKT_A_DATA]);
	if (ilpw_hdr_parse(nla_data(tb[ILP_PKT_A_DATA]), len, &hdr, NULL, NULL)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[ILP_PKT_A_DATA],
				    "the packet does not start with a valid ILP header");
		return -EINVAL;
	}
	memset(&key, 0, sizeof(key));
	err = ilp_nl_prev(tb[ILP_PKT_A_PREV_ADDR], NULL, &key.prev,
			  info->extack);
	if (err)
		return err;
	key.prev.port = 0;	/* flows are keyed by address only */
	key.service = hdr.service;
	key.conn = hdr.conn;
	err = ilp_nl_actions(info, &acts);
	if (err)
		return err;

	pkt = alloc_skb(LL_MAX_HEADER + 64 + len, GFP_KERNEL);
	if (!pkt)
		return -ENOMEM;
	skb_reserve(pkt, LL_MAX_HEADER + 64);
	skb_put_data(pkt, nla_data(tb[ILP_PKT_A_DATA]), len);

	inst = ilp_nl_instance(info, &in);
	if (!inst) {
		kfree_skb(pkt);
		return -ENOENT;
	}
	if (info->attrs[ILP_A_CACHE])
		err = ilp_dc_add(in, &inst->dc, &key, &acts);
	/* The packet path runs with BHs off; so does this send. */
	rcu_read_lock();
	local_bh_disable();
	ilp_execute(in, inst, pkt, &key, &acts, 0);
	local_bh_enable();
	rcu_read_unlock();
	mutex_unlock(&in->cfg_lock);
	return err;
}

/**
 * ilp_nl_cache_add - ILP_CMD_CACHE_ADD: install a decision for a flow
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.  Replaces an entry for the same flow.
 *
 * Return: 0 or a negative
 * errno, with an extack message.
 */
static int ilp_nl_cache_add(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_CACHE_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_actions acts;
	struct ilp_flow_key key;
	struct ilp_net *in;
	int err;

	err = ilp_nl_flow(info, tb, &key);
	if (err)
		return err;
	err = ilp_nl_actions(info, &acts);
	if (err)
		return err;
	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	err = ilp_dc_add(in, &inst->dc, &key, &acts);
	mutex_unlock(&in->cfg_lock);
	return err;
}

/**
 * ilp_nl_cache_del - ILP_CMD_CACHE_DEL: remove the entry of a flow
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.
 *
 * Return: 0 or a negative errno (-ENOENT for no such entry).
 */
static int ilp_nl_cache_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_CACHE_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_flow_key key;
	struct ilp_net *in;
	int err;

	err = ilp_nl_flow(info, tb, &key);
	if (err)
		return err;
	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	err = ilp_dc_del(&inst->dc, &key);
	if (err)
		NL_SET_ERR_MSG(info->extack, "no cache entry for that flow");
	mutex_unlock(&in->cfg_lock);
	return err;
}

/**
 * ilp_nl_cache_flush - ILP_CMD_CACHE_FLUSH: remove every entry
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.
 *
 * Return: 0 or -ENOENT without an instance.
 */
static int ilp_nl_cache_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct ilp_instance *inst;
	struct ilp_net *in;

	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
#ifdef ILP_INJECT_LOCK_ORDER
	/*
	 * Planted for the debug-kernel selftest: dc.lock before cfg_lock,
	 * against the documented order; lockdep must report the cycle with
	 * the flush below.  (genl_mutex keeps the instance alive meanwhile.)
	 */
	mutex_unlock(&in->cfg_lock);
	mutex_lock(&inst->dc.lock);
	mutex_lock(&in->cfg_lock);
	mutex_unlock(&inst->dc.lock);
#endif
	ilp_dc_flush(&inst->dc);
	mutex_unlock(&in->cfg_lock);
	return 0;
}

/**
 * ilp_nl_cache_set - ILP_CMD_CACHE_SET: the cache's capacity and the upcall bounds
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Admin.
 *
 * Return: 0 or a negative errno, with an extack message.
 */
static int ilp_nl_cache_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_CACHE_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_net *in;
	int err;

	err = ilp_nl_nest(info, ILP_A_CACHE, tb, ILP_CACHE_A_MAX, ilp_cache_policy);
	if (err)
		return err;
	if (!tb[ILP_CACHE_A_CAPACITY] && !tb[ILP_CACHE_A_UPCALL_RATE] &&
	    !tb[ILP_CACHE_A_UPCALL_BURST]) {
		NL_SET_ERR_MSG(info->extack,
			       "nothing to set: give a capacity, an upcall rate or an upcall burst");
		return -EINVAL;
	}
	if (tb[ILP_CACHE_A_CAPACITY] &&
	    nla_get_u32(tb[ILP_CACHE_A_CAPACITY]) > ILP_CACHE_MAX_CAPACITY) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[ILP_CACHE_A_CAPACITY],
				    "the capacity is at most ILP_CACHE_MAX_CAPACITY (1048576) entries");
		return -ERANGE;
	}
	inst = ilp_nl_instance(info, &in);
	if (!inst)
		return -ENOENT;
	err = 0;
	if (tb[ILP_CACHE_A_CAPACITY])
		err = ilp_dc_set_capacity(in, &inst->dc,
					  nla_get_u32(tb[ILP_CACHE_A_CAPACITY]));
	/* Buckets pick the new values up on their next miss. */
	if (!err && tb[ILP_CACHE_A_UPCALL_RATE])
		WRITE_ONCE(in->upcall_rate, nla_get_u32(tb[ILP_CACHE_A_UPCALL_RATE]));
	if (!err && tb[ILP_CACHE_A_UPCALL_BURST])
		WRITE_ONCE(in->upcall_burst, nla_get_u32(tb[ILP_CACHE_A_UPCALL_BURST]));
	mutex_unlock(&in->cfg_lock);
	return err;
}

/* One cache entry: flow, counters, last use and actions. */
static int ilp_nl_fill_entry(struct sk_buff *msg, struct ilp_dc_entry *e)
{
	const struct ilp_flow_key *k = &e->key;
	struct nlattr *nest, *acts, *fwd;
	unsigned long used = READ_ONCE(e->used);
	u64 packets, bytes;
	unsigned int i;

	ilp_dc_entry_stats(e, &packets, &bytes);
	nest = nla_nest_start(msg, ILP_A_CACHE);
	if (!nest ||
	    nla_put(msg, ILP_CACHE_A_PREV_ADDR, k->prev.family == AF_INET ? 4 : 16,
		    &k->prev.addr) ||
	    nla_put_u32(msg, ILP_CACHE_A_SERVICE, k->service) ||
	    nla_put_u64_64bit(msg, ILP_CACHE_A_CONN, k->conn, ILP_CACHE_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_CACHE_A_PACKETS, packets, ILP_CACHE_A_PAD) ||
	    nla_put_u64_64bit(msg, ILP_CACHE_A_BYTES, bytes, ILP_CACHE_A_PAD))
		return -EMSGSIZE;
	if (used && nla_put_u64_64bit(msg, ILP_CACHE_A_USED_MS,
				      jiffies_to_msecs(jiffies - used),
				      ILP_CACHE_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	acts = nla_nest_start(msg, ILP_A_ACTIONS);
	if (!acts)
		return -EMSGSIZE;
	if ((e->acts.drop && nla_put_flag(msg, ILP_ACT_A_DROP)) ||
	    (e->acts.deliver && nla_put_flag(msg, ILP_ACT_A_DELIVER)))
		return -EMSGSIZE;
	for (i = 0; i < e->acts.n_fwd; i++) {
		const struct ilp_peer_key *p = &e->acts.fwd[i];

		fwd = nla_nest_start(msg, ILP_ACT_A_FORWARD);
		if (!fwd ||
		    nla_put(msg, ILP_PEER_A_ADDR, p->family == AF_INET ? 4 : 16,
			    &p->addr) ||
		    nla_put_u16(msg, ILP_PEER_A_PORT, ntohs(p->port)))
			return -EMSGSIZE;
		nla_nest_end(msg, fwd);
	}
	nla_nest_end(msg, acts);
	return 0;
}

/**
 * ilp_nl_cache_get - ILP_CMD_CACHE_GET: the entry of one flow
 * @skb: the request
 * @info: its attributes, extack and reply address
 *
 * Return: 0 or a negative errno (-ENOENT for no such entry).
 */
static int ilp_nl_cache_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[ILP_CACHE_A_MAX + 1];
	struct ilp_instance *inst;
	struct ilp_flow_key key;
	struct ilp_dc_entry *e;
	struct sk_buff *msg;
	struct ilp_net *in;
	void *hdr;
	int err;

	err = ilp_nl_flow(info, tb, &key);
	if (err)
		return err;
	hdr = ilp_nl_reply(info, &msg);
	if (!hdr)
		return -ENOMEM;
	inst = ilp_nl_instance(info, &in);
	if (!inst) {
		nlmsg_free(msg);
		return -ENOENT;
	}
	mutex_lock(&inst->dc.lock);
	e = ilp_dc_find_locked(&inst->dc, &key);
	if (!e) {
		NL_SET_ERR_MSG(info->extack, "no cache entry for that flow");
		err = -ENOENT;
	} else {
		err = ilp_nl_fill_entry(msg, e);
	}
	mutex_unlock(&inst->dc.lock);
	mutex_unlock(&in->cfg_lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/**
 * ilp_nl_cache_dump - ILP_CMD_CACHE_GET (dump): every entry, with its counters
 * @skb: the reply being filled
 * @cb: the dump's state
 *
 * Return: the dump's length so far, 0 at its end, or a negative errno.
 */
static int ilp_nl_cache_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ilp_net *in = ilp_pernet(sock_net(skb->sk));
	unsigned long skip = cb->args[0], idx = 0;
	struct ilp_instance *inst;
	struct ilp_dc_entry *e;
	void *hdr;

	mutex_lock(&in->cfg_lock);
	inst = ilp_instance_get_locked(in);
	if (!inst)
		goto out;
	mutex_lock(&inst->dc.lock);
	cb->seq = inst->dc.gen;
	list_for_each_entry(e, &inst->dc.clock, lru) {
		if (idx < skip) {
			idx++;
			continue;
		}
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &ilp_genl_family,
				  NLM_F_MULTI, ILP_CMD_CACHE_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (ilp_nl_fill_entry(skb, e)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		idx++;
	}
	mutex_unlock(&inst->dc.lock);
out:
	mutex_unlock(&in->cfg_lock);
	cb->args[0] = idx;
	return skb->len;
}

enum {
	ILP_NL_MCGRP_EVENTS,
};

static const struct genl_multicast_group ilp_mcgrps[] = {
	[ILP_NL_MCGRP_EVENTS] = { .name = ILP_MCGRP_EVENTS,
				  .flags = GENL_MCAST_CAP_NET_ADMIN },
};

/**
 * ilp_nl_sa_exhausting - tell the "events" group that @tx nears its last IV
 * @net: the namespace of the instance
 * @peer: the peer @tx sends to
 * @tx: its transmit SA
 *
 * Packet path (softirq, or BHs off): atomic allocation, and nothing
 * built when nobody listens.  The message names the peer and the SPI,
 * never a key.  A lost message is not retried: the SA's packets are
 * dropped as ILP_DROP_TX_IV_SPENT once the IVs are out, and counted.
 */
void ilp_nl_sa_exhausting(struct net *net, const struct ilp_peer *peer,
			  const struct ilp_tx_sa *tx)
{
	struct sk_buff *msg;
	struct nlattr *nest;
	void *hdr;

	if (!genl_has_listeners(&ilp_genl_family, net, ILP_NL_MCGRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &ilp_genl_family, 0, ILP_CMD_SA_EXHAUSTING);
	if (!hdr)
		goto fail;
	nest = nla_nest_start(msg, ILP_A_PEER);
	if (!nest ||
	    nla_put(msg, ILP_PEER_A_ADDR, peer->key.family == AF_INET ? 4 : 16,
		    &peer->key.addr) ||
	    nla_put_u16(msg, ILP_PEER_A_PORT, ntohs(peer->key.port)) ||
	    nla_put_u32(msg, ILP_PEER_A_TX_SPI, tx->spi) ||
	    nla_put_u8(msg, ILP_PEER_A_TX_VERSION, tx->version))
		goto fail;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&ilp_genl_family, net, msg, 0,
				ILP_NL_MCGRP_EVENTS, GFP_ATOMIC);
	return;
fail:
	nlmsg_free(msg);
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
	{
		.cmd = ILP_CMD_INSTANCE_NEW,
		.doit = ilp_nl_instance_new,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_INSTANCE_DEL,
		.doit = ilp_nl_instance_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_INSTANCE_SET,
		.doit = ilp_nl_instance_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_INSTANCE_GET,
		.doit = ilp_nl_instance_get,
	},
	{
		.cmd = ILP_CMD_KEY_SET,
		.doit = ilp_nl_key_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_KEY_ROTATE,
		.doit = ilp_nl_key_rotate,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_KEY_GET,
		.doit = ilp_nl_key_get,
	},
	{
		.cmd = ILP_CMD_SA_ALLOC,
		.doit = ilp_nl_sa_alloc,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_SA_GET,
		.dumpit = ilp_nl_sa_dump,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_SA_DEL,
		.doit = ilp_nl_sa_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_PEER_NEW,
		.doit = ilp_nl_peer_new,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_PEER_SET,
		.doit = ilp_nl_peer_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_PEER_DEL,
		.doit = ilp_nl_peer_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_PEER_GET,
		.dumpit = ilp_nl_peer_dump,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_LISTEN,
		.doit = ilp_nl_listen,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_EXECUTE,
		.doit = ilp_nl_execute,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_CACHE_ADD,
		.doit = ilp_nl_cache_add,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_CACHE_DEL,
		.doit = ilp_nl_cache_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_CACHE_GET,
		.doit = ilp_nl_cache_get,
		.dumpit = ilp_nl_cache_dump,
	},
	{
		.cmd = ILP_CMD_CACHE_FLUSH,
		.doit = ilp_nl_cache_flush,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ILP_CMD_CACHE_SET,
		.doit = ilp_nl_cache_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

struct genl_family ilp_genl_family __ro_after_init = {
	.name = ILP_GENL_NAME,
	.version = ILP_GENL_VERSION,
	.maxattr = ILP_A_MAX,
	.policy = ilp_nl_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = ilp_genl_ops,
	.n_small_ops = ARRAY_SIZE(ilp_genl_ops),
	.mcgrps = ilp_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ilp_mcgrps),
};

/**
 * ilp_genl_init - register the "ilp" generic netlink family
 *
 * Module init, process context.
 *
 * Return: 0 or a negative errno.
 */
int ilp_genl_init(void)
{
	return genl_register_family(&ilp_genl_family);
}

/**
 * ilp_genl_exit - unregister the family: no request runs after it returns
 *
 * Module exit, process context.
 */
void ilp_genl_exit(void)
{
	genl_unregister_family(&ilp_genl_family);
}
