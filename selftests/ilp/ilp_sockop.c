// SPDX-License-Identifier: GPL-2.0
/*
 * ilp_sockop - one AF_ILP socket operation for the selftests, in plain C
 * on the raw socket API (what ilp(7) documents), so that the tests check
 * the kernel and not a library.
 *
 *   ilp_sockop misuse CASE [HOST]
 *	Run one misuse case and print "errno ENAME" (or "errno 0" when the
 *	call succeeded); the test compares it with ilp(7).
 *   ilp_sockop recv SERVICE CONN COUNT TIMEOUT_MS [rcvbuf N] [nodrain MS]
 *	Bind (SERVICE, CONN), receive COUNT packets or until the timeout,
 *	print "received N bytes B conn C" with the last sender's
 *	connection, and each packet's payload on stderr with -v.
 *	nodrain: sleep MS before reading anything (fills the buffer).
 *   ilp_sockop send SERVICE CONN HOST COUNT [sn SN] [md TYPE=TEXT]
 *	[sndbuf N] [size N] [persist 1] [gap MS]: send COUNT datagrams
 *	"msg I" (padded to size) to (SERVICE, CONN) at HOST; print "sent N"
 *	and the blocking count ("blocked N": sends that had to wait for
 *	buffer space).  persist: a failed send is counted ("failed N") and
 *	the next one tried, for senders that run across instance changes.
 *	gap: wait MS between two sends, for a steady stream over seconds.
 *   ilp_sockop roundtrip SERVICE HOST [sn SN] [md TYPE=TEXT]
 *	connect, send "ping" with metadata, wait 5 s for the reply; print
 *	"reply PAYLOAD from SERVICE/myconn host H sn S md TYPES" so the test
 *	sees what came back and how.
 *   ilp_sockop reflect SERVICE COUNT
 *	Bind (SERVICE, any) with ILP_SO_RECVMETADATA; answer each packet
 *	to its sender with the payload and the packet's metadata types as
 *	"PAYLOAD|t1,t2,..", then exit after COUNT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/ilp.h>

static int af;

static int ilp_af(void)
{
	FILE *f = fopen(ILP_AF_SYSFS_PATH, "r");
	int n = ILP_AF_DEFAULT;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = ILP_AF_DEFAULT;
		fclose(f);
	}
	return n;
}

static void die(const char *what)
{
	printf("error %s: %s\n", what, strerrorname_np(errno));
	exit(1);
}

static int sock(void)
{
	int fd = socket(af, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket");
	return fd;
}

static void set_inaddr(struct ilp_inaddr *a, const char *text)
{
	char buf[64];
	char *colon;

	memset(a, 0, sizeof(*a));
	snprintf(buf, sizeof(buf), "%s", text);
	if (inet_pton(AF_INET6, buf, &a->addr.v6) == 1) {
		a->family = AF_INET6;
		return;
	}
	colon = strchr(buf, ':');
	if (colon) {
		*colon = 0;
		a->port = htons(atoi(colon + 1));
	}
	if (inet_pton(AF_INET, buf, &a->addr.v4) != 1) {
		fprintf(stderr, "bad address %s\n", text);
		exit(2);
	}
	a->family = AF_INET;
}

static struct sockaddr_ilp addr(uint32_t service, uint64_t conn, const char *host,
				const char *sn)
{
	struct sockaddr_ilp a;

	memset(&a, 0, sizeof(a));
	a.silp_family = af;
	a.silp_service = service;
	a.silp_conn = conn;
	if (host)
		set_inaddr(&a.silp_host, host);
	if (sn)
		set_inaddr(&a.silp_sn, sn);
	return a;
}

static void put_errno(int rc)
{
	printf("errno %s\n", rc < 0 ? strerrorname_np(errno) : "0");
}

/* One TLV: type, length, value, padding. */
static size_t tlv(uint8_t *buf, uint16_t type, const void *val, uint16_t len)
{
	uint16_t t = htons(type), l = htons(len);
	size_t padded = (4 + len + 3) & ~3u;

	memset(buf, 0, padded);
	memcpy(buf, &t, 2);
	memcpy(buf + 2, &l, 2);
	memcpy(buf + 4, val, len);
	return padded;
}

static size_t md_arg(uint8_t *buf, const char *spec)
{
	const char *eq = strchr(spec, '=');

	if (!eq) {
		fprintf(stderr, "md wants TYPE=TEXT\n");
		exit(2);
	}
	return tlv(buf, strtoul(spec, NULL, 0), eq + 1, strlen(eq + 1));
}

static ssize_t send_md(int fd, const struct sockaddr_ilp *to, const void *data,
		       size_t len, const uint8_t *md, size_t md_len, int flags)
{
	char cbuf[CMSG_SPACE(2048)];
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = {
		.msg_name = (void *)to,
		.msg_namelen = to ? sizeof(*to) : 0,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	struct cmsghdr *c;

	if (md_len) {
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(md_len);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_ILP;
		c->cmsg_type = ILP_CMSG_METADATA;
		c->cmsg_len = CMSG_LEN(md_len);
		memcpy(CMSG_DATA(c), md, md_len);
	}
	return sendmsg(fd, &msg, flags);
}

static int misuse(const char *c, const char *host)
{
	struct sockaddr_ilp a = addr(5000, 0, host, NULL);
	int fd = sock(), fd2, one = 1;
	uint8_t md[2048];
	char buf[64];

	if (!strcmp(c, "bind-short")) {
		put_errno(bind(fd, (void *)&a, sizeof(a) - 1));
	} else if (!strcmp(c, "bind-family")) {
		a.silp_family = AF_INET;
		put_errno(bind(fd, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "bind-service0")) {
		a.silp_service = 0;
		put_errno(bind(fd, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "bind-twice")) {
		if (bind(fd, (void *)&a, sizeof(a)))
			die("bind");
		a.silp_conn = 7;
		put_errno(bind(fd, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "bind-inuse")) {
		fd2 = sock();
		a.silp_conn = 9;
		if (bind(fd2, (void *)&a, sizeof(a)))
			die("bind");
		put_errno(bind(fd, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "bind-any-and-exact")) {
		fd2 = sock();
		if (bind(fd2, (void *)&a, sizeof(a)))
			die("bind");
		a.silp_conn = 9;
		put_errno(bind(fd, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "bind-reserved")) {
		a.silp_service = 80;
		put_errno(bind(fd, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "send-other-conn")) {
		/* Bound to (5000, 21): may not speak on connection 22. */
		a.silp_conn = 21;
		if (bind(fd, (void *)&a, sizeof(a)))
			die("bind");
		a.silp_conn = 22;
		put_errno(sendto(fd, "x", 1, 0, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "send-other-service")) {
		/* Bound to (5000, any): may not speak for service 5001. */
		if (bind(fd, (void *)&a, sizeof(a)))
			die("bind");
		a.silp_service = 5001;
		a.silp_conn = 23;
		put_errno(sendto(fd, "x", 1, 0, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "send-nodest")) {
		put_errno(send(fd, "x", 1, 0));
	} else if (!strcmp(c, "send-host-family")) {
		a.silp_host.family = AF_UNIX;
		put_errno(sendto(fd, "x", 1, 0, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "send")) {
		/* The path's error: ENETDOWN, ENETUNREACH, ENOKEY, or 0. */
		put_errno(sendto(fd, "x", 1, 0, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "send-too-big")) {
		static char big[1500];
		size_t n = 0;

		while (n < 1000)
			n += tlv(md + n, 0x100, "0123456789", 10);
		put_errno(send_md(fd, &a, big, sizeof(big), md, n, 0));
	} else if (!strcmp(c, "md-unaligned")) {
		put_errno(send_md(fd, &a, "x", 1, (uint8_t *)"\x01\x00\x00\x01\x07", 5, 0));
	} else if (!strcmp(c, "md-own-type")) {
		put_errno(send_md(fd, &a, "x", 1, md, tlv(md, ILP_TLV_SRC_HOST, "abcdef", 6), 0));
	} else if (!strcmp(c, "md-too-long")) {
		size_t n = 0;

		while (n <= ILP_METADATA_MAX)
			n += tlv(md + n, 0x100, "0123456789", 10);
		put_errno(send_md(fd, &a, "x", 1, md, n, 0));
	} else if (!strcmp(c, "md-sockopt-own-type")) {
		put_errno(setsockopt(fd, SOL_ILP, ILP_SO_METADATA, md,
				     tlv(md, ILP_TLV_DST_HOST, "abcdef", 6)));
	} else if (!strcmp(c, "send-after-shutdown")) {
		shutdown(fd, SHUT_WR);
		put_errno(sendto(fd, "x", 1, MSG_NOSIGNAL, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "recv-after-shutdown")) {
		if (bind(fd, (void *)&a, sizeof(a)))
			die("bind");
		shutdown(fd, SHUT_RD);
		printf("returned %zd\n", recv(fd, buf, sizeof(buf), 0));
	} else if (!strcmp(c, "recv-empty-nonblock")) {
		put_errno(recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	} else if (!strcmp(c, "recv-oob")) {
		put_errno(recv(fd, buf, sizeof(buf), MSG_OOB | MSG_DONTWAIT));
	} else if (!strcmp(c, "getpeername-unconnected")) {
		socklen_t l = sizeof(a);

		put_errno(getpeername(fd, (void *)&a, &l));
	} else if (!strcmp(c, "connect-family")) {
		a.silp_family = AF_INET;
		put_errno(connect(fd, (void *)&a, sizeof(a)));
	} else if (!strcmp(c, "sockopt-level")) {
		put_errno(setsockopt(fd, SOL_SOCKET + 1000, ILP_SO_RECVMETADATA, &one, sizeof(one)));
	} else if (!strcmp(c, "autobind")) {
		/* A send binds the socket to a fresh connection of the service. */
		socklen_t l = sizeof(a);

		sendto(fd, "x", 1, 0, (void *)&a, sizeof(a));
		if (getsockname(fd, (void *)&a, &l))
			die("getsockname");
		printf("bound %u %s\n", a.silp_service, a.silp_conn ? "conn" : "any");
	} else {
		fprintf(stderr, "unknown case %s\n", c);
		return 2;
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int do_recv(int argc, char **argv)
{
	struct sockaddr_ilp a = addr(strtoul(argv[0], NULL, 0), strtoull(argv[1], NULL, 0),
				     NULL, NULL);
	long count = atol(argv[2]), timeout = atol(argv[3]), got = 0, bytes = 0;
	long deadline = now_ms() + timeout;
	unsigned long long conn = 0;
	int fd = sock(), i;
	char buf[70000];

	for (i = 4; i + 1 < argc; i += 2) {
		int v = atoi(argv[i + 1]);

		if (!strcmp(argv[i], "rcvbuf") &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)))
			die("SO_RCVBUF");
	}
	if (bind(fd, (void *)&a, sizeof(a)))
		die("bind");
	printf("bound\n");
	fflush(stdout);
	for (i = 4; i + 1 < argc; i += 2)
		if (!strcmp(argv[i], "nodrain"))
			usleep(atoi(argv[i + 1]) * 1000);
	while (got < count) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_ilp from;
		socklen_t fl = sizeof(from);
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (void *)&from, &fl);
		if (n < 0)
			continue;
		got++;
		bytes += n;
		conn = from.silp_conn;
	}
	printf("received %ld bytes %ld conn %llu\n", got, bytes, conn);
	return 0;
}

static int do_send(int argc, char **argv)
{
	const char *sn = NULL;
	uint8_t md[2048];
	size_t md_len = 0, size = 0;
	long count = atol(argv[3]), i, sent = 0, blocked = 0, failed = 0;
	int persist = 0, gap = 0;
	struct sockaddr_ilp a;
	char buf[70000];
	int fd = sock(), k;

	for (k = 4; k + 1 < argc; k += 2) {
		int v = atoi(argv[k + 1]);

		if (!strcmp(argv[k], "sn"))
			sn = argv[k + 1];
		else if (!strcmp(argv[k], "md"))
			md_len += md_arg(md + md_len, argv[k + 1]);
		else if (!strcmp(argv[k], "size"))
			size = v;
		else if (!strcmp(argv[k], "persist"))
			persist = v;
		else if (!strcmp(argv[k], "gap"))
			gap = v;
		else if (!strcmp(argv[k], "sndbuf") &&
			 setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)))
			die("SO_SNDBUF");
	}
	a = addr(strtoul(argv[0], NULL, 0), strtoull(argv[1], NULL, 0), argv[2], sn);
	for (i = 0; i < count; i++) {
		int n = snprintf(buf, sizeof(buf), "msg %ld", i);
		ssize_t r;

		if (i && gap)
			usleep(gap * 1000);
		if ((size_t)n < size) {
			memset(buf + n, '.', size - n);
			n = size;
		}
		r = send_md(fd, &a, buf, n, md, md_len, MSG_DONTWAIT);
		if (r < 0 && errno == EAGAIN) {
			/* Full send buffer: wait (blocking) for room. */
			blocked++;
			r = send_md(fd, &a, buf, n, md, md_len, 0);
		}
		if (r < 0 && persist) {
			/* No instance for now: wait a little for the next. */
			failed++;
			usleep(1000);
			continue;
		}
		if (r < 0)
			die("send");
		sent++;
	}
	printf("sent %ld blocked %ld", sent, blocked);
	if (persist)
		printf(" failed %ld", failed);
	printf("\n");
	return 0;
}

/* Metadata types of a received packet, "1,2,256". */
static void md_types(struct msghdr *msg, char *out, size_t cap)
{
	struct cmsghdr *c;

	out[0] = 0;
	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		const uint8_t *p = CMSG_DATA(c);
		size_t len = c->cmsg_len - CMSG_LEN(0), off = 0;

		if (c->cmsg_level != SOL_ILP || c->cmsg_type != ILP_CMSG_METADATA)
			continue;
		while (off + 4 <= len) {
			uint16_t t = p[off] << 8 | p[off + 1];
			uint16_t l = p[off + 2] << 8 | p[off + 3];
			size_t used = strlen(out);

			snprintf(out + used, cap - used, "%s%u", used ? "," : "", t);
			off += (4 + l + 3) & ~3u;
		}
	}
}

static ssize_t recv_md(int fd, char *buf, size_t cap, struct sockaddr_ilp *from,
		       char *types, size_t tcap)
{
	char cbuf[CMSG_SPACE(4096)];
	struct iovec iov = { buf, cap - 1 };
	struct msghdr msg = {
		.msg_name = from,
		.msg_namelen = sizeof(*from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	ssize_t n = recvmsg(fd, &msg, 0);

	if (n >= 0) {
		buf[n] = 0;
		md_types(&msg, types, tcap);
	}
	return n;
}

static const char *inaddr_str(const struct ilp_inaddr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (!a->family)
		return "none";
	inet_ntop(a->family, &a->addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s:%u", ip, ntohs(a->port));
	return buf;
}

static int do_roundtrip(int argc, char **argv)
{
	const char *sn = NULL;
	uint8_t md[2048];
	size_t md_len = 0;
	struct sockaddr_ilp a, from, local;
	socklen_t ll = sizeof(local);
	char buf[2048], types[256], h[80], s[80];
	struct pollfd p;
	int fd = sock(), one = 1, k;

	for (k = 2; k + 1 < argc; k += 2) {
		if (!strcmp(argv[k], "sn"))
			sn = argv[k + 1];
		else if (!strcmp(argv[k], "md"))
			md_len += md_arg(md + md_len, argv[k + 1]);
	}
	a = addr(strtoul(argv[0], NULL, 0), 0, argv[1], sn);
	if (setsockopt(fd, SOL_ILP, ILP_SO_RECVMETADATA, &one, sizeof(one)))
		die("ILP_SO_RECVMETADATA");
	if (connect(fd, (void *)&a, sizeof(a)))
		die("connect");
	if (getsockname(fd, (void *)&local, &ll))
		die("getsockname");
	if (send_md(fd, NULL, "ping", 4, md, md_len, 0) < 0)
		die("send");
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1) {
		printf("no reply\n");
		return 1;
	}
	if (recv_md(fd, buf, sizeof(buf), &from, types, sizeof(types)) < 0)
		die("recv");
	printf("reply %s from %u/%s host %s sn %s md %s\n", buf, from.silp_service,
	       from.silp_conn == local.silp_conn ? "myconn" : "otherconn",
	       inaddr_str(&from.silp_host, h, sizeof(h)),
	       inaddr_str(&from.silp_sn, s, sizeof(s)), types[0] ? types : "none");
	return 0;
}

static int do_reflect(char **argv)
{
	struct sockaddr_ilp a = addr(strtoul(argv[0], NULL, 0), ILP_CONN_ANY, NULL, NULL);
	long count = atol(argv[1]), i;
	char buf[2048], types[256], out[2400];
	int fd = sock(), one = 1;

	if (setsockopt(fd, SOL_ILP, ILP_SO_RECVMETADATA, &one, sizeof(one)))
		die("ILP_SO_RECVMETADATA");
	if (bind(fd, (void *)&a, sizeof(a)))
		die("bind");
	printf("bound\n");
	fflush(stdout);
	for (i = 0; i < count; i++) {
		struct sockaddr_ilp from;
		int n;

		if (recv_md(fd, buf, sizeof(buf), &from, types, sizeof(types)) < 0)
			die("recv");
		n = snprintf(out, sizeof(out), "%s|%s", buf, types);
		if (sendto(fd, out, n, 0, (void *)&from, sizeof(from)) < 0)
			die("sendto");
	}
	return 0;
}

int main(int argc, char **argv)
{
	af = ilp_af();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "misuse"))
		return misuse(argv[2], argc > 3 ? argv[3] : "10.0.1.2");
	if (argc >= 6 && !strcmp(argv[1], "recv"))
		return do_recv(argc - 2, argv + 2);
	if (argc >= 6 && !strcmp(argv[1], "send"))
		return do_send(argc - 2, argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "roundtrip"))
		return do_roundtrip(argc - 2, argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "reflect"))
		return do_reflect(argv + 2);
	fprintf(stderr, "usage: see the comment at the top of ilp_sockop.c\n");
	return 2;
}
