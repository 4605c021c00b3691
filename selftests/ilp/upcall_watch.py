#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
upcall_watch - a raw upcall listener that also watches the "ilp" family go

  upcall_watch.py LISTEN_CMD UPCALL_CMD [TIMEOUT_S]

Registers as the namespace's listener (ILP_CMD_LISTEN, the numbers given
from the uapi header), joins nlctrl's "notify" group, prints "listening",
then reads until the family is unregistered (CTRL_CMD_DELFAMILY) and quiet
for a second, or TIMEOUT_S (default 60) pass.  Prints
"upcalls before B after A": upcalls queued before the family's removal and
after it.  Both arrive on one socket, in the order the kernel sent them, so
A counts upcalls the module built once its family was gone.
"""
import errno
import socket
import struct
import sys
import time

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
GENL_ID_CTRL = 0x10
CTRL_CMD_DELFAMILY = 2
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_MCAST_GRP_NAME = 1
CTRL_ATTR_MCAST_GRP_ID = 2
NLMSG_ERROR = 2


def attr(kind, data):
    n = 4 + len(data)
    return struct.pack("=HH", n, kind) + data + b"\0" * (-n % 4)


def attrs(data):
    out, off = {}, 0
    while off + 4 <= len(data):
        n, kind = struct.unpack_from("=HH", data, off)
        if n < 4:
            break
        out[kind & 0x3FFF] = data[off + 4:off + n]
        off += (n + 3) & ~3
    return out


def messages(data):
    off = 0
    while off + 16 <= len(data):
        n, kind, _, _, _ = struct.unpack_from("=IHHII", data, off)
        if n < 16:
            break
        yield kind, data[off + 16:off + n]
        off += (n + 3) & ~3


def request(sock, family, cmd, payload=b""):
    body = struct.pack("BBH", cmd, 1, 0) + payload
    sock.send(struct.pack("=IHHII", 16 + len(body), family, 1 | 4, 1, 0) + body)


def getfamily(sock, name):
    request(sock, GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
            attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
    while True:
        for kind, body in messages(sock.recv(65536)):
            if kind == NLMSG_ERROR:
                err = struct.unpack_from("=i", body)[0]
                if err:
                    sys.exit(f"getfamily {name}: {errno.errorcode[-err]}")
                continue
            return attrs(body[4:])


def main():
    listen_cmd, upcall_cmd = int(sys.argv[1]), int(sys.argv[2])
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 60
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((0, 0))
    ilp = struct.unpack("=H", getfamily(s, "ilp")[CTRL_ATTR_FAMILY_ID])[0]
    s.recv(65536)  # the ACK
    groups = attrs(getfamily(s, "nlctrl")[CTRL_ATTR_MCAST_GROUPS])
    s.recv(65536)
    for g in groups.values():
        a = attrs(g)
        if a.get(CTRL_ATTR_MCAST_GRP_NAME) == b"notify\0":
            grp = struct.unpack("=I", a[CTRL_ATTR_MCAST_GRP_ID])[0]
            s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, grp)
    request(s, ilp, listen_cmd)
    print("listening", flush=True)
    before = after = 0
    gone_at = None
    end = time.monotonic() + timeout
    s.settimeout(0.2)
    while time.monotonic() < end:
        if gone_at and time.monotonic() - gone_at > 1:
            break
        try:
            data = s.recv(1 << 17)
        except socket.timeout:
            continue
        except OSError as e:
            if e.errno == errno.ENOBUFS:
                continue
            raise
        for kind, body in messages(data):
            if kind == GENL_ID_CTRL and body[0] == CTRL_CMD_DELFAMILY:
                if attrs(body[4:]).get(CTRL_ATTR_FAMILY_NAME) == b"ilp\0":
                    gone_at = time.monotonic()
            elif kind == ilp and body[0] == upcall_cmd:
                if gone_at:
                    after += 1
                else:
                    before += 1
    print(f"upcalls before {before} after {after}" + ("" if gone_at else " (family never went)"),
          flush=True)


main()
