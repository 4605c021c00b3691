// SPDX-License-Identifier: GPL-2.0
/*
 * ilp_genl_raw - send a hand-built request to the "ilp" genetlink family
 *
 *   ilp_genl_raw [-d [-b SHELL-COMMAND]] [-r RESERVED] [-n NEST] CMD [TYPE=VALUE ...]
 *
 * -d sends the request as a dump (NLM_F_DUMP) and prints "ok N messages"
 * with ", interrupted" when a part carried NLM_F_DUMP_INTR; -b runs a
 * shell command once the dump's first part has arrived (to change what
 * is being dumped halfway).
 * Sends command CMD (a number) with the given attributes, exactly as
 * written: no validation here, so that the tests can check what the
 * kernel accepts.  VALUE is a u32, or "u16:N", "u64:N" or "ip:A.B.C.D"
 * (4 bytes); -n NEST puts the attributes in a nest of type NEST.  Prints "ok" and exits 0 when the kernel answered
 * without error, or "error ENAME: EXTACK-MESSAGE" and exits 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/ilp.h>

#define BUFSZ 8192

struct req {
	struct nlmsghdr nlh;
	struct genlmsghdr genl;
	char attrs[1024];
};

static void put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data,
		     uint16_t len)
{
	struct nlattr *nla = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)nla + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(nla->nla_len);
}

static const char *between;	/* -b */
static unsigned int messages;	/* replies of a dump */
static int interrupted;		/* one had NLM_F_DUMP_INTR */

/* Send one request and read replies up to the ACK or the error. */
static int transact(int fd, struct nlmsghdr *req, char *reply, uint16_t *family)
{
	static char buf[BUFSZ];

	if (send(fd, req, req->nlmsg_len, 0) < 0) {
		perror("send");
		exit(2);
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh;

		if (n < 0) {
			perror("recv");
			exit(2);
		}
		if (between && !family) {
			if (system(between) != 0)
				fprintf(stderr, "-b command failed\n");
			between = NULL;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);
				size_t off = sizeof(*e);
				struct nlattr *a;

				reply[0] = 0;
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - sizeof(e->msg);
				if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
					int rem = nlh->nlmsg_len - NLMSG_HDRLEN - off;

					for (a = (struct nlattr *)((char *)e + off);
					     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
					     a->nla_len <= rem;
					     rem -= NLA_ALIGN(a->nla_len),
					     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
						if (a->nla_type == NLMSGERR_ATTR_MSG)
							snprintf(reply, 256, "%s",
								 (char *)a + NLA_HDRLEN);
				}
				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				interrupted |= !!(nlh->nlmsg_flags & NLM_F_DUMP_INTR);
				return *(int *)NLMSG_DATA(nlh);
			}
			messages++;
			interrupted |= !!(nlh->nlmsg_flags & NLM_F_DUMP_INTR);
			if (family && nlh->nlmsg_type == GENL_ID_CTRL) {
				struct genlmsghdr *g = NLMSG_DATA(nlh);
				struct nlattr *a = (struct nlattr *)((char *)g + GENL_HDRLEN);
				int rem = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

				for (; rem >= NLA_HDRLEN && a->nla_len <= rem;
				     rem -= NLA_ALIGN(a->nla_len),
				     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
					if (a->nla_type == CTRL_ATTR_FAMILY_ID)
						*family = *(uint16_t *)((char *)a + NLA_HDRLEN);
			}
		}
	}
}

int main(int argc, char **argv)
{
	char extack[256] = "";
	uint16_t family = 0;
	struct req req;
	int one = 1, fd, err, i = 1;
	uint8_t reserved = 0;
	struct nlattr *nest = NULL;
	int nest_type = 0;
	int dump = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-d")) {
			dump = 1;
		} else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
			between = argv[++i];
		} else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			reserved = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			nest_type = atoi(argv[++i]);
		} else {
			i = argc;
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [-d [-b SHELL-COMMAND]] [-r RESERVED] [-n NEST] CMD [TYPE=VALUE ...]\n",
			argv[0]);
		return 2;
	}

	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	if (fd < 0) {
		perror("socket");
		return 2;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.nlh.nlmsg_type = GENL_ID_CTRL;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nlh.nlmsg_seq = 1;
	req.genl.cmd = CTRL_CMD_GETFAMILY;
	req.genl.version = 1;
	put_attr(&req.nlh, CTRL_ATTR_FAMILY_NAME, ILP_GENL_NAME, sizeof(ILP_GENL_NAME));
	err = transact(fd, &req.nlh, extack, &family);
	if (err || !family) {
		printf("error family %s not found\n", ILP_GENL_NAME);
		return 1;
	}

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.nlh.nlmsg_type = family;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0);
	req.nlh.nlmsg_seq = 2;
	req.genl.cmd = atoi(argv[i++]);
	req.genl.version = ILP_GENL_VERSION;
	req.genl.reserved = reserved;
	if (nest_type) {
		nest = (struct nlattr *)((char *)&req.nlh + NLMSG_ALIGN(req.nlh.nlmsg_len));
		put_attr(&req.nlh, nest_type | NLA_F_NESTED, NULL, 0);
	}
	for (; i < argc; i++) {
		unsigned long long v64;
		unsigned int type, val;
		uint16_t v16;
		char ip[64];
		struct in_addr a4;

		if (sscanf(argv[i], "%u=u16:%hu", &type, &v16) == 2) {
			put_attr(&req.nlh, type, &v16, sizeof(v16));
		} else if (sscanf(argv[i], "%u=u64:%llu", &type, &v64) == 2) {
			uint64_t v = v64;

			put_attr(&req.nlh, type, &v, sizeof(v));
		} else if (sscanf(argv[i], "%u=ip:%63s", &type, ip) == 2 &&
			   inet_pton(AF_INET, ip, &a4) == 1) {
			put_attr(&req.nlh, type, &a4, sizeof(a4));
		} else if (sscanf(argv[i], "%u=%u", &type, &val) == 2) {
			put_attr(&req.nlh, type, &val, sizeof(uint32_t));
		} else {
			fprintf(stderr, "bad attribute %s\n", argv[i]);
			return 2;
		}
	}
	if (nest)
		nest->nla_len = (char *)&req.nlh + req.nlh.nlmsg_len - (char *)nest;
	messages = 0;
	err = transact(fd, &req.nlh, extack, NULL);
	if (err) {
		printf("error %s: %s\n", strerrorname_np(-err), extack);
		return 1;
	}
	if (dump)
		printf("ok %u messages%s\n", messages, interrupted ? ", interrupted" : "");
	else
		printf("ok\n");
	return 0;
}
