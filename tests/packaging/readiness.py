#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The daemons start from the configuration files as shipped and tell a
service manager when they are ready and when they stop.

The test plays systemd for Type=notify units: it binds the datagram socket
that NOTIFY_SOCKET names (with SO_PASSCRED, as the manager reads the
sender's pid for NotifyAccess=main) and starts kcontroller and kbroker with
etc/kcontroller.properties and etc/kbroker.properties, overriding only what
must differ on a test machine (the ZooKeeper address, the log directory,
free ports).  It checks:

- kcontroller sends READY=1 once it has stood for election: /controller
  names it by then;
- kbroker sends STATUS= lines while it starts and READY=1 only once it is
  registered: /brokers/ids/<id> exists by then;
- every message comes from the daemon's own pid;
- SIGTERM gives STOPPING=1, then a clean exit (status 0);
- a start-up that fails (no ZooKeeper) sends STATUS=failed: and no
  READY=1, and exits 1.
"""

import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from kbroker import build_path, zk_client  # noqa: E402
from zookeeper import ZooKeeper, free_port  # noqa: E402

SRCDIR = os.environ.get("top_srcdir", ".")


class Manager:
    """The service manager's end of the notification protocol."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)

    def receive(self, timeout):
        """(text, sender pid) of the next datagram, or None at the timeout."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, anc, _, _ = self.sock.recvmsg(
                4096, socket.CMSG_SPACE(struct.calcsize("3i")))
        except socket.timeout:
            return None
        pid = None
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", cdata[:struct.calcsize("3i")])[0]
        return data.decode(), pid

    def wait_for(self, proc, field, timeout, check=None, log=None):
        """Read messages until one carries `field` (e.g. "READY=1"); every
        message must come from proc.  Returns every message seen."""
        seen = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.0f s; got %r\n%s" % (
                    field, timeout, seen, read(log)))
            msg = self.receive(min(left, 0.5))
            if msg is None:
                if proc.poll() is not None:
                    # drain what it sent before dying, then fail
                    msg = self.receive(0.2)
                    if msg is None:
                        raise AssertionError("exited with %s before %s; got %r\n%s" % (
                            proc.returncode, field, seen, read(log)))
                else:
                    continue
            text, pid = msg
            assert pid == proc.pid, "message %r from pid %s, not %d" % (text, pid, proc.pid)
            seen.append(text)
            if field in text.split("\n"):
                if check is not None:
                    check(text)
                return seen

    def drain(self):
        seen = []
        while True:
            msg = self.receive(0.2)
            if msg is None:
                return seen
            seen.append(msg[0])


def read(path):
    if path is None:
        return ""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def spawn(daemon, config, overrides, notify, log):
    args = [build_path(daemon, daemon)]
    for k, v in overrides.items():
        args += ["--override", "%s=%s" % (k, v)]
    args.append(os.path.join(SRCDIR, "etc", config))
    env = dict(os.environ, NOTIFY_SOCKET=notify)
    out = open(log, "ab")
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    out.close()
    return proc


def stop(proc, log, timeout=120):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("did not stop within %d s\n%s" % (timeout, read(log)))
    assert rc == 0, "exit status %d after SIGTERM\n%s" % (rc, read(log))


def main():
    with tempfile.TemporaryDirectory(prefix="skald-ready.") as tmp:
        mgr = Manager(os.path.join(tmp, "notify"))
        notify = mgr.path

        # A start-up that fails: nothing listens on the ZooKeeper port.
        dead = "127.0.0.1:%d" % free_port()
        log = os.path.join(tmp, "failing-broker.log")
        p = spawn("kbroker", "kbroker.properties", {
            "zookeeper.connect": dead,
            "zookeeper.connection.timeout.ms": "2000",
            "log.dirs": os.path.join(tmp, "logs-failing"),
            "listeners": "PLAINTEXT://127.0.0.1:0",
        }, notify, log)
        try:
            rc = p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            raise
        msgs = mgr.drain()
        assert rc == 1, "failed start exited %d\n%s" % (rc, read(log))
        assert not any("READY=1" in m.split("\n") for m in msgs), msgs
        assert any(m.startswith("STATUS=failed: ") for m in msgs), msgs
        print("failed start: exit 1, %r" % msgs[-1])

        with ZooKeeper(os.path.join(tmp, "zk")) as zk:
            ctl_log = os.path.join(tmp, "controller.log")
            ctl = spawn("kcontroller", "kcontroller.properties", {
                "zookeeper.connect": zk.connect,
                "listeners": "PLAINTEXT://127.0.0.1:%d" % free_port(),
            }, notify, ctl_log)
            bro = None
            zc = zk_client(zk.connect)
            try:
                def elected(_):
                    data, _ = zc.get("/controller")
                    assert b'"brokerid":100' in data, data
                seen = mgr.wait_for(ctl, "READY=1", 90, elected, ctl_log)
                print("kcontroller: %r" % seen)

                bro_log = os.path.join(tmp, "broker.log")
                bro = spawn("kbroker", "kbroker.properties", {
                    "zookeeper.connect": zk.connect,
                    "log.dirs": os.path.join(tmp, "logs"),
                    "listeners": "PLAINTEXT://127.0.0.1:%d" % free_port(),
                    "zookeeper.session.timeout.ms": "6000",
                }, notify, bro_log)

                def registered(_):
                    assert zc.exists("/brokers/ids/0"), "READY=1 before registering"
                seen = mgr.wait_for(bro, "READY=1", 90, registered, bro_log)
                print("kbroker: %r" % seen)
                assert "STATUS=loading the logs" in seen, seen
                assert any(m.startswith("STATUS=connecting") for m in seen), seen

                bro.send_signal(signal.SIGTERM)
                seen = mgr.wait_for(bro, "STOPPING=1", 60, None, bro_log)
                stop(bro, bro_log)
                print("kbroker stopping: %r" % (seen + mgr.drain()))
                assert not zc.exists("/brokers/ids/0"), "registration left behind"

                ctl.send_signal(signal.SIGTERM)
                seen = mgr.wait_for(ctl, "STOPPING=1", 60, None, ctl_log)
                stop(ctl, ctl_log)
                print("kcontroller stopping: %r" % seen)
            finally:
                for proc in (bro, ctl):
                    if proc is not None and proc.poll() is None:
                        proc.kill()
                        proc.wait()
                zc.stop()
                zc.close()
    print("ok")


if __name__ == "__main__":
    main()
