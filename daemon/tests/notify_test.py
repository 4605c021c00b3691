#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ilpd under systemd's Type=notify, without systemd: the test is the
# service manager.  NOTIFY_SOCKET names a unix datagram socket it listens
# on; READY=1 must come once the control socket answers (at the moment it
# arrives, ilpctl gets a status), STOPPING=1 on SIGTERM before a clean
# exit, and nothing at all from a start that fails on a bad option.
#
# usage: notify_test.py ILPD ILPCTL
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile

ilpd, ilpctl = sys.argv[1], sys.argv[2]


def fail(why, log=None):
    if log:
        sys.stdout.write(open(log).read())
    print("FAIL:", why)
    sys.exit(1)


def free_udp_port():
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::", 0))
        return s.getsockname()[1]


with tempfile.TemporaryDirectory() as d:
    os.chmod(d, 0o755)
    for sub in ("plugins", "run", "state"):
        os.mkdir(os.path.join(d, sub), 0o755)
    with open(os.path.join(d, "keys"), "w") as f:
        f.write("key0 = " + os.urandom(32).hex() + "\n")
    notify_path = os.path.join(d, "notify")
    control = os.path.join(d, "run", "ilpd.sock")
    log = os.path.join(d, "log")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)

    # A start that fails says nothing to systemd.
    bad = subprocess.run([ilpd, "--config", "/dev/null", "--role", "router"], env=env,
                         capture_output=True)
    if bad.returncode != 2:
        fail("exit status %d for a bad role" % bad.returncode)
    listener.settimeout(0.2)
    try:
        fail("a failed start notified: %r" % listener.recv(4096))
    except socket.timeout:
        pass

    args = [ilpd, "--config", "/dev/null", "--datapath", "user", "--log-level", "debug",
            "--port", str(free_udp_port()), "--master-keys", os.path.join(d, "keys"),
            "--plugin-dir", os.path.join(d, "plugins"), "--run-dir", os.path.join(d, "run"),
            "--state-dir", os.path.join(d, "state")]
    with open(log, "w") as out:
        proc = subprocess.Popen(args, env=env, stderr=out)
    try:
        listener.settimeout(15)
        try:
            msg = listener.recv(4096).decode()
        except socket.timeout:
            fail("no notification within 15 s", log)
        lines = msg.split("\n")
        if lines[0] != "READY=1":
            fail("first notification is not READY=1: %r" % msg, log)
        if "STATUS=role host, datapath user" not in lines:
            fail("no STATUS line in %r" % msg, log)
        # At the moment READY=1 is here, the control socket must take a
        # connection at once (listening already, not made later) ...
        c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            c.connect(control)
        except OSError as e:
            fail("READY=1 before the control socket listens: %s" % e, log)
        c.close()
        # ... and answer.
        st = subprocess.run([ilpctl, "-S", control, "-j", "daemon", "status"],
                            capture_output=True, text=True, timeout=10)
        if st.returncode != 0 or json.loads(st.stdout).get("datapath") != "user":
            fail("daemon status after READY=1: %s %s" % (st.stdout, st.stderr), log)

        proc.send_signal(signal.SIGTERM)
        listener.settimeout(10)
        try:
            msg = listener.recv(4096).decode()
        except socket.timeout:
            fail("no notification after SIGTERM", log)
        if msg.split("\n")[0] != "STOPPING=1":
            fail("after SIGTERM: %r, not STOPPING=1" % msg, log)
        rc = proc.wait(timeout=10)
        if rc != 0:
            fail("exit status %d after SIGTERM" % rc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
print("PASS")
