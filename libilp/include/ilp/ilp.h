/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ilp/ilp.h - AF_ILP sockets from C: libilp's C-callable surface
 *
 * The socket calls themselves are the ordinary ones (bind, connect,
 * sendto, sendmsg, recvmsg, setsockopt on the descriptor ilp_socket()
 * returns; see <linux/ilp.h>).  These helpers do what C makes tedious: find
 * the run-time address family, fill a struct sockaddr_ilp, and write and
 * read the TLVs of ILP_CMSG_METADATA and ILP_SO_METADATA.
 *
 *	struct sockaddr_ilp to;
 *	int fd = ilp_socket(SOCK_CLOEXEC);
 *	ilp_addr_init(&to, 4242, 0);
 *	ilp_addr_set_host(&to, "192.0.2.7", 0);
 *	sendto(fd, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to));
 *
 * ilp_socket() needs ilp.ko.  The ilp_sock_*() functions at the end wrap
 * ilp::Socket instead, so that a C program also runs on a node without the
 * module, through the local ilpd (docs/app-socket.md).
 *
 * Every function that can fail returns -1 and sets errno.  Usable from C99
 * and C++; link with -lilp (a C++ library: with the static one, link with
 * a C++ compiler or add -lstdc++).
 */
#ifndef ILP_ILP_H
#define ILP_ILP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/ilp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Enough room for ilp_addr_format()'s longest text, NUL included. */
#define ILP_ADDRSTRLEN 160

/*
 * The address family number of the loaded module, read from
 * ILP_AF_SYSFS_PATH.  -1 with errno EAFNOSUPPORT when the module is not
 * loaded, EINVAL when the file does not hold a number.
 */
int ilp_family(void);

/*
 * socket(AF_ILP, SOCK_DGRAM, 0) with the loaded module's family number, or
 * the default one (ILP_AF_DEFAULT), for which the kernel may load the
 * module.  @flags: 0 or any of SOCK_NONBLOCK and SOCK_CLOEXEC (others:
 * EINVAL).  Returns the descriptor; -1 and errno EAFNOSUPPORT when the
 * kernel has no such family (is ilp.ko loaded?).
 */
int ilp_socket(int flags);

/*
 * Zeroes @sa and sets its family (the run-time one, as ilp_socket()
 * chooses it), @service and @conn (ILP_CONN_ANY: when binding, every
 * connection; when sending, the one the socket is bound to).
 */
void ilp_addr_init(struct sockaddr_ilp *sa, uint32_t service, uint64_t conn);

/*
 * Sets @sa's host (ilp_addr_set_host) or the SN to go through
 * (ilp_addr_set_sn) to the IPv4 or IPv6 address @ip ("192.0.2.1",
 * "2001:db8::1": an address alone, no brackets, no port, no name) and UDP
 * @port in host order (0: ILP_UDP_PORT).  -1 and EINVAL when @ip is not an
 * address.  ilp_addr_set_sn(sa, NULL, 0) removes the SN.
 */
int ilp_addr_set_host(struct sockaddr_ilp *sa, const char *ip, uint16_t port);
int ilp_addr_set_sn(struct sockaddr_ilp *sa, const char *ip, uint16_t port);

/*
 * Parses an endpoint, "ADDR", "ADDR:PORT", "[V6ADDR]" or "[V6ADDR]:PORT",
 * into @out (for &sa.silp_host or &sa.silp_sn).  -1 and EINVAL if it is
 * not one.
 */
int ilp_endpoint_parse(struct ilp_inaddr *out, const char *text);

/*
 * Parses a whole address, "SERVICE[/CONN][@HOST[:PORT]][ via SN[:PORT]]"
 * (e.g. "4242@192.0.2.7 via 198.51.100.1"), into @sa, family set as
 * ilp_addr_init() sets it.  -1 and EINVAL if it is not one.
 */
int ilp_addr_parse(struct sockaddr_ilp *sa, const char *text);

/*
 * Writes @sa in the text form ilp_addr_parse() reads to @buf (@size bytes,
 * ILP_ADDRSTRLEN is always enough).  -1 and ENOSPC when it does not fit,
 * EINVAL when silp_host or silp_sn has an unknown family.
 */
int ilp_addr_format(const struct sockaddr_ilp *sa, char *buf, size_t size);

/*
 * Appends one TLV (@type, then @len bytes of @val, zero-padded to 4 bytes)
 * at offset *@off of @buf, which has room for @cap bytes, and advances
 * *@off.  -1 and ENOSPC when it does not fit (*@off unchanged).  A raw
 * encoder: it takes any type, but a socket refuses ILP's own
 * (0x0001-ILP_TLV_OWN_MAX) with EINVAL, and type 0 is padding.
 */
int ilp_tlv_put(void *buf, size_t cap, size_t *off, uint16_t type, const void *val, uint16_t len);

/*
 * Reads the TLV at offset *@off of the @len bytes at @buf (start with
 * *@off = 0), skipping padding (type 0), and advances *@off past it.
 * Returns 1 with *@type (critical bit included), *@val (pointing into
 * @buf) and *@vlen set; 0 at the end; -1 and EINVAL when the TLV runs past
 * @len (malformed), *@off then at the TLV.
 */
int ilp_tlv_next(const void *buf, size_t len, size_t *off, uint16_t *type, const void **val,
		 uint16_t *vlen);

/*
 * Decodes the value of ILP_TLV_SRC_HOST or ILP_TLV_DST_HOST (4 or 16
 * address bytes then a port, network order) into @out.  -1 and EINVAL for
 * any other length.
 */
int ilp_tlv_host(const void *val, uint16_t vlen, struct ilp_inaddr *out);

/*
 * An ILP socket over whichever transport there is: AF_ILP, or the local
 * ilpd's app socket without the module ($ILP_TRANSPORT and
 * $ILP_APP_SOCKET choose, as for ilp::Socket).  The errnos are those of
 * the AF_ILP calls.
 *
 * ilp_sock_open() returns NULL and sets errno on failure; @flags as for
 * ilp_socket().  ilp_sock_close() takes NULL.  ilp_sock_fd() is the
 * descriptor to poll(), owned by the socket.
 */
struct ilp_sock;
struct ilp_sock *ilp_sock_open(int flags);
void ilp_sock_close(struct ilp_sock *s);
int ilp_sock_fd(const struct ilp_sock *s);

/* bind() and connect(); @to needs a host. */
int ilp_sock_bind(struct ilp_sock *s, uint32_t service, uint64_t conn);
int ilp_sock_connect(struct ilp_sock *s, const struct sockaddr_ilp *to);

/*
 * Sends @len bytes to @to, or to the connected destination when @to is
 * NULL, with the @md_len bytes of TLVs at @md (none of ILP's own), or the
 * socket's sticky metadata when @md is NULL.  Returns @len.
 */
ssize_t ilp_sock_sendto(struct ilp_sock *s, const void *buf, size_t len,
			const struct sockaddr_ilp *to, const void *md, size_t md_len);

/*
 * Receives a packet's payload into @buf (@flags: MSG_DONTWAIT, MSG_PEEK,
 * MSG_TRUNC) and, when not NULL, its sender into @from and its whole TLV
 * area into @md: *@md_len is the room there on entry and the area's size
 * on return (copied only up to the room).  Returns the payload bytes read,
 * the whole payload's length with MSG_TRUNC.
 */
ssize_t ilp_sock_recvfrom(struct ilp_sock *s, void *buf, size_t len, int flags,
			  struct sockaddr_ilp *from, void *md, size_t *md_len);

/*
 * Out-of-band service control (ilp/service_control.hpp): sends the
 * @req_len bytes at @req (at most 1000) to @service's module on the SN at
 * @sn (NULL: the host's first-hop SN), or with ILP_CONTROL_LOCAL in @flags
 * to this node's own module, through the local ilpd, and waits up to
 * @timeout_ms (0: 15 s).  On success returns 0, sets *@status to the
 * module's status (0 or a negative errno) and copies its answer into
 * @reply: *@reply_len is the room there on entry and the answer's length
 * on return (copied only up to the room).  Else -1 and errno, as the
 * C++ call's ilp::Error.
 */
#define ILP_CONTROL_LOCAL 1
int ilp_service_control(uint32_t service, const struct ilp_inaddr *sn, int flags, const void *req,
			size_t req_len, void *reply, size_t *reply_len, int *status,
			int timeout_ms);

/*
 * Groups (ilp/group_control.hpp, docs/multipoint.md): joins @group
 * ("KEYHEX:LABEL") as a member, or registers as a sender, at the host's
 * first-hop SN through the local ilpd, with the owner's grant @grant (its
 * text, one line) or NULL for a group its owner posted open; leave and
 * unregister undo them.  0, or -1 and errno: the SN's refusal (EPERM,
 * EAGAIN, EBUSY, EUSERS, ENOENT) or what ilp_service_control() sets.
 * ilp_group_connection() sets *@conn to the connection a group's packets
 * travel on.
 */
#define ILP_TLV_GROUP 0x0101 /* a packet's group: the name's text */
int ilp_group_join(const char *group, const char *grant);
int ilp_group_leave(const char *group);
int ilp_group_register(const char *group, const char *grant);
int ilp_group_unregister(const char *group);
int ilp_group_connection(const char *group, uint64_t *conn);

#ifdef __cplusplus
}
#endif

#endif /* ILP_ILP_H */
