/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * echo_client_c - echo_client in plain C99, on the C API of <ilp/ilp.h>
 *
 *	echo_client_c SERVICE HOST[:PORT] [--sn SN[:PORT]] [--count N]
 *		      [--metadata TYPE=TEXT]...
 *
 * Does what echo_client does, with the ilp_sock_*() calls: they take
 * AF_ILP when ilp.ko is loaded and the local ilpd's app socket otherwise,
 * so that this runs on a node without the module too, as the C++ client
 * does.  ilp_sock_connect() to SERVICE on HOST, then for each "ping I" an
 * ilp_sock_sendto() with the --metadata TLVs, poll(2) on ilp_sock_fd() for
 * up to 5 s and ilp_sock_recvfrom().  Prints "echoed K/N"; exit status 0
 * when every echo came back intact, 1 otherwise, 2 for a command line that
 * does not parse.  SERVICE 8 is the relay that SNs ship
 * (services/relay), whose return path brings the echo back.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <ilp/ilp.h>

static const char usage[] =
    "usage: echo_client_c SERVICE HOST[:PORT] [--sn SN[:PORT]] [--count N]\n"
    "                     [--metadata TYPE=TEXT]...\n";

/* What the errno of a failed open, connect or send means for ILP. */
static const char *hint(int err)
{
	switch (err) {
	case EAFNOSUPPORT:
		/* Neither the module nor ilpd's app socket is there. */
		return ": is ilp.ko loaded? (modprobe ilp), or is ilpd running? (datapath = user)";
	case ENOENT:
	case ECONNREFUSED:
		return " (is ilpd running?)";
	case ENETUNREACH:
		return " (no SN and no direct peer to send through: ilpctl instance set sn ADDR)";
	case ENOKEY:
		return " (the first hop is a peer without a transmit SA)";
	case ENETDOWN:
		return " (no ILP instance in this network namespace: ilpctl instance add)";
	default:
		return "";
	}
}

static void fail(const char *what)
{
	int err = errno;

	fprintf(stderr, "echo_client_c: %s: %s%s\n", what, strerror(err), hint(err));
}

/* @s as a number (decimal, or hexadecimal with 0x) up to @max; -1 if not. */
static int number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end || *out > max ? -1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Sends "ping @i" to the connected destination with the @md_len bytes of
 * TLVs at @md (none when 0: @md is never NULL, which would mean the
 * socket's sticky metadata); waits for its echo.
 */
static int ping(struct ilp_sock *s, unsigned long i, const unsigned char *md, size_t md_len)
{
	char msg[32], got[65536];
	double deadline;

	snprintf(msg, sizeof(msg), "ping %lu", i);
	if (ilp_sock_sendto(s, msg, strlen(msg), NULL, md, md_len) < 0) {
		fail("sending");
		return -1;
	}

	deadline = now() + 5;
	for (;;) {
		struct pollfd p;
		double left = deadline - now();
		ssize_t n;

		p.fd = ilp_sock_fd(s);
		p.events = POLLIN;
		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == 0) {
			printf("%s: no echo within 5 s\n", msg);
			return 0;
		}
		n = ilp_sock_recvfrom(s, got, sizeof(got) - 1, MSG_DONTWAIT, NULL, NULL, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			fail("receiving");
			return -1;
		}
		got[n] = '\0';
		if ((size_t)n == strlen(msg) && !memcmp(got, msg, (size_t)n)) {
			printf("%s: echoed\n", msg);
			return 1;
		}
		/* The late echo of an earlier ping: not this one's. */
		if (!strncmp(got, "ping ", 5) && strtoul(got + 5, NULL, 10) < i)
			continue;
		printf("%s: the echo differs: '%s'\n", msg, got);
		return 0;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_ilp to;
	struct ilp_sock *s;
	unsigned char md[ILP_METADATA_MAX];
	unsigned long long service = 0, count = 3, v;
	unsigned long i, echoed = 0;
	const char *args[2];
	char text[ILP_ADDRSTRLEN];
	size_t md_len = 0, nargs = 0;
	int a, r;

	/* The family is set here; the host and SN below. */
	ilp_addr_init(&to, 0, 0);
	for (a = 1; a < argc; a++) {
		const char *opt = argv[a], *value;

		if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
			fputs(usage, stdout);
			return 0;
		}
		if (strncmp(opt, "--", 2)) {
			if (nargs == 2) {
				fputs(usage, stderr);
				return 2;
			}
			args[nargs++] = opt;
			continue;
		}
		if (a + 1 == argc) {
			fprintf(stderr, "echo_client_c: %s needs a value\n", opt);
			return 2;
		}
		value = argv[++a];
		if (!strcmp(opt, "--sn")) {
			if (ilp_endpoint_parse(&to.silp_sn, value) < 0) {
				fprintf(stderr, "echo_client_c: --sn: bad endpoint '%s'\n", value);
				return 2;
			}
		} else if (!strcmp(opt, "--count")) {
			if (number(value, 1000000, &count) < 0 || !count) {
				fprintf(stderr, "echo_client_c: --count takes a number from 1\n");
				return 2;
			}
		} else if (!strcmp(opt, "--metadata")) {
			const char *eq = strchr(value, '=');
			char type[16];

			if (!eq || (size_t)(eq - value) >= sizeof(type)) {
				fprintf(stderr, "echo_client_c: --metadata takes TYPE=TEXT\n");
				return 2;
			}
			memcpy(type, value, (size_t)(eq - value));
			type[eq - value] = '\0';
			if (number(type, 0xffff, &v) < 0 || !(v & ~ILP_TLV_CRITICAL) ||
			    (v & ~ILP_TLV_CRITICAL) <= ILP_TLV_OWN_MAX) {
				fprintf(stderr,
					"echo_client_c: --metadata TYPE must be from 0x0100 "
					"to 0xffff, not '%s'\n",
					type);
				return 2;
			}
			if (strlen(eq + 1) > 0xffff ||
			    ilp_tlv_put(md, sizeof(md), &md_len, (uint16_t)v, eq + 1,
					(uint16_t)strlen(eq + 1)) < 0) {
				fprintf(stderr, "echo_client_c: --metadata: more than %d bytes\n",
					ILP_METADATA_MAX);
				return 2;
			}
		} else {
			fprintf(stderr, "echo_client_c: unknown option '%s'\n", opt);
			return 2;
		}
	}
	if (nargs != 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (number(args[0], 0xfffffffeULL, &service) < 0 || !service) {
		fprintf(stderr, "echo_client_c: SERVICE must be a number from 1 to 4294967294\n");
		return 2;
	}
	to.silp_service = (uint32_t)service;
	if (ilp_endpoint_parse(&to.silp_host, args[1]) < 0) {
		fprintf(stderr, "echo_client_c: bad endpoint '%s'\n", args[1]);
		return 2;
	}

	s = ilp_sock_open(SOCK_CLOEXEC);
	if (!s) {
		fail("opening an ILP socket");
		return 1;
	}
	ilp_addr_format(&to, text, sizeof(text));
	/* Binds the socket to the service and a new connection, too. */
	if (ilp_sock_connect(s, &to) < 0) {
		char what[ILP_ADDRSTRLEN + 16];

		snprintf(what, sizeof(what), "connecting to %s", text);
		fail(what);
		ilp_sock_close(s);
		return 1;
	}
	printf("-> %s\n", text);
	for (i = 1; i <= count; i++) {
		r = ping(s, i, md, md_len);
		if (r < 0)
			break;
		echoed += (unsigned long)r;
	}
	ilp_sock_close(s);
	printf("echoed %lu/%llu\n", echoed, count);
	return echoed == count ? 0 : 1;
}
