// SPDX-License-Identifier: GPL-2.0
/*
 * ilp_sock - open AF_ILP sockets for the selftests
 *
 *   ilp_sock create [dgram|stream|raw|seqpacket] [PROTOCOL]
 *	Try one socket(); print "ok inode=N" or "error ENAME" and exit 0 or 1.
 *   ilp_sock hold [COUNT]
 *	Open COUNT sockets (default 1), print their inodes one per line and
 *	then "ready", and keep them open until standard input closes.
 *
 * The family number comes from /sys/module/ilp/parameters/family when the
 * module is loaded; otherwise the default is used, which lets socket()
 * load the module through its net-pf alias.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/ilp.h>

static int ilp_af(void)
{
	FILE *f = fopen(ILP_AF_SYSFS_PATH, "r");
	int af = ILP_AF_DEFAULT;

	if (f) {
		if (fscanf(f, "%d", &af) != 1)
			af = ILP_AF_DEFAULT;
		fclose(f);
	}
	return af;
}

static int sock_type(const char *name)
{
	if (!strcmp(name, "dgram"))
		return SOCK_DGRAM;
	if (!strcmp(name, "stream"))
		return SOCK_STREAM;
	if (!strcmp(name, "raw"))
		return SOCK_RAW;
	if (!strcmp(name, "seqpacket"))
		return SOCK_SEQPACKET;
	fprintf(stderr, "unknown socket type %s\n", name);
	exit(2);
}

static unsigned long inode_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st)) {
		perror("fstat");
		exit(2);
	}
	return (unsigned long)st.st_ino;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "create")) {
		int type = sock_type(argc > 2 ? argv[2] : "dgram");
		int proto = argc > 3 ? atoi(argv[3]) : 0;
		int fd = socket(ilp_af(), type, proto);

		if (fd < 0) {
			printf("error %s\n", strerrorname_np(errno));
			return 1;
		}
		printf("ok inode=%lu\n", inode_of(fd));
		close(fd);
		return 0;
	}
	if (!strcmp(cmd, "hold")) {
		int n = argc > 2 ? atoi(argv[2]) : 1;
		char buf[64];

		for (int i = 0; i < n; i++) {
			int fd = socket(ilp_af(), SOCK_DGRAM, 0);

			if (fd < 0) {
				printf("error %s\n", strerrorname_np(errno));
				return 1;
			}
			printf("%lu\n", inode_of(fd));
		}
		printf("ready\n");
		fflush(stdout);
		while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
			;
		return 0;
	}
	fprintf(stderr, "usage: %s create [TYPE] [PROTO] | hold [COUNT]\n",
		argv[0]);
	return 2;
}
