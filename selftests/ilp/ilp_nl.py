#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ilp_nl.py - raw "ilp" generic netlink for the selftests, by uapi names

  ilp_nl.py request CMD [NEST [ATTR=TYPE:VALUE ...]]
      Send ILP_CMD_<CMD> with the attributes in nest ILP_A_<NEST> (ATTR
      is the name after ILP_<NEST>_A_; TYPE is u8, u16, u32 or hex).
      Print each attribute of the reply's nest as NAME=VALUE (VALUE
      decimal for 1, 2 and 4 bytes, else hex), then "ok"; or print
      "error ERRNO: EXTACK" and exit 1.
  ilp_nl.py events COUNT SECONDS
      Join the family's "events" group; print each message as
      "CMD NAME=VALUE ..." and exit 0 after COUNT messages, or print
      "timeout N" after SECONDS with N messages and exit 1.  Prints
      "listening" on stderr once joined.

Names come from include/uapi/linux/ilp.h, so that the tests name what
they send.
"""
import errno
import os
import re
import select
import socket
import struct
import sys
import time

TOP = os.environ.get("ILP_TOP", os.path.join(os.path.dirname(__file__), "../.."))
NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS = 1, 2, 7
CTRL_ATTR_MCAST_GRP_NAME, CTRL_ATTR_MCAST_GRP_ID = 1, 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NLMSGERR_ATTR_MSG = 1
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_EXT_ACK = 270, 1, 11


def uapi_enums():
    text = open(os.path.join(TOP, "include/uapi/linux/ilp.h")).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    enums = {}
    for m in re.finditer(r"enum\s+\w*\s*\{([^}]*)\}", text):
        value = -1
        for item in m.group(1).split(","):
            item = item.strip()
            if not item:
                continue
            if "=" in item:
                item, init = (x.strip() for x in item.split("=", 1))
                value = int(init, 0)
            else:
                value += 1
            enums[item] = value
    return enums


ENUMS = uapi_enums()


def attrs(buf):
    out = []
    while len(buf) >= 4:
        ln, typ = struct.unpack_from("HH", buf)
        if ln < 4:
            break
        out.append((typ & 0x3FFF, buf[4:ln]))
        buf = buf[(ln + 3) & ~3:]
    return out


def attr(typ, data):
    return struct.pack("HH", 4 + len(data), typ) + data + b"\0" * (-len(data) % 4)


class Genl:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.bind((0, 0))
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.seq = 0
        reply = self.transact(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                              attr(CTRL_ATTR_FAMILY_NAME, b"ilp\0"))
        self.groups = {}
        for typ, data in attrs(reply[0][4:]):
            if typ == CTRL_ATTR_FAMILY_ID:
                self.family = struct.unpack("H", data[:2])[0]
            elif typ == CTRL_ATTR_MCAST_GROUPS:
                for _, grp in attrs(data):
                    g = dict(attrs(grp))
                    name = g[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b"\0").decode()
                    self.groups[name] = struct.unpack("I", g[CTRL_ATTR_MCAST_GRP_ID])[0]

    def transact(self, family, cmd, payload):
        """Sends a request; returns the replies' genl payloads, or raises OSError."""
        self.seq += 1
        body = struct.pack("BBH", cmd, 1, 0) + payload
        self.sock.send(struct.pack("IHHII", 16 + len(body), family,
                                   NLM_F_REQUEST | NLM_F_ACK, self.seq, 0) + body)
        replies = []
        while True:
            buf = self.sock.recv(65536)
            while len(buf) >= 16:
                ln, typ, flags, seq, _ = struct.unpack_from("IHHII", buf)
                msg = buf[16:ln]
                buf = buf[(ln + 3) & ~3:]
                if typ == NLMSG_ERROR:
                    err = -struct.unpack_from("i", msg)[0]
                    if not err:
                        return replies
                    text = ""
                    if flags & 0x200:  # NLM_F_ACK_TLVS, after the request
                        olen = struct.unpack_from("I", msg, 4)[0]
                        tlvs = dict(attrs(msg[20 if flags & 0x100 else 4 + olen:]))
                        text = tlvs.get(NLMSGERR_ATTR_MSG, b"").rstrip(b"\0").decode()
                    raise OSError(err, text)
                replies.append(msg)


def show(prefix, payload):
    parts = []
    for _, nest in attrs(payload[4:]):
        for typ, data in attrs(nest):
            names = [k for k, v in ENUMS.items() if k.startswith(prefix) and v == typ]
            name = names[0][len("ILP_"):] if names else str(typ)
            if len(data) in (1, 2, 4):
                value = str(int.from_bytes(data, "little"))
            else:
                value = data.hex()
            parts.append(f"{name}={value}")
    return parts


def request(args):
    g = Genl()
    cmd = ENUMS["ILP_CMD_" + args[0]]
    payload = b""
    prefix = "ILP_"
    if len(args) > 1:
        nest = args[1]
        prefix = f"ILP_{nest}_A_"
        inner = b""
        for a in args[2:]:
            name, val = a.split("=", 1)
            kind, v = val.split(":", 1)
            if kind == "hex":
                data = bytes.fromhex(v)
            else:
                data = int(v, 0).to_bytes({"u8": 1, "u16": 2, "u32": 4}[kind], "little")
            inner += attr(ENUMS[prefix + name], data)
        payload = attr(ENUMS["ILP_A_" + nest] | 0x8000, inner)
    try:
        replies = g.transact(g.family, cmd, payload)
    except OSError as e:
        print(f"error {errno.errorcode.get(e.errno, e.errno)}: {e.strerror}")
        return 1
    for r in replies:
        for p in show(prefix, r):
            print(p)
    print("ok")
    return 0


def events(count, seconds):
    g = Genl()
    g.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g.groups["events"])
    print("listening", file=sys.stderr, flush=True)
    seen = 0
    end = time.monotonic() + seconds
    cmds = {v: k for k, v in ENUMS.items() if k.startswith("ILP_CMD_")}
    while seen < count:
        left = end - time.monotonic()
        if left <= 0 or not select.select([g.sock], [], [], left)[0]:
            print(f"timeout {seen}", flush=True)
            return 1
        buf = g.sock.recv(65536)
        msg = buf[16:struct.unpack_from("I", buf)[0]]
        print(cmds.get(msg[0], msg[0])[len("ILP_CMD_"):], *show("ILP_PEER_A_", msg), flush=True)
        seen += 1
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "request":
        return request(sys.argv[2:])
    if len(sys.argv) == 4 and sys.argv[1] == "events":
        return events(int(sys.argv[2]), float(sys.argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
