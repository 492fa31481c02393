# SPDX-License-Identifier: Apache-2.0
"""Run kbroker processes from the build tree for integration tests.

    b = Broker(workdir, zk.connect, broker_id=1, extra={"num.partitions": "3"})
    b.start()            # returns once /brokers/ids/<id> exists
    b.bootstrap          # "127.0.0.1:PORT"
    b.stop()             # SIGTERM, waits, returns the exit status
    b.kill()             # SIGKILL

Waits are on conditions (the registration znode, the process exiting),
with generous deadlines for a slow shared machine.
"""

import os
import signal
import subprocess
import time

from kazoo.client import KazooClient

from zookeeper import free_port


def build_path(*parts):
    return os.path.join(os.environ.get("top_builddir", "."), *parts)


def wait_for(cond, timeout=60.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def zk_client(connect):
    zk = KazooClient(hosts=connect, timeout=30)
    zk.start(timeout=30)
    return zk


class Broker:
    def __init__(self, workdir, zk_connect, broker_id=1, port=None, extra=None):
        self.workdir = os.path.abspath(workdir)
        self.zk_connect = zk_connect
        self.id = broker_id
        self.port = port or free_port()
        self.logdir = os.path.join(self.workdir, "logs-%d" % broker_id)
        self.config = os.path.join(self.workdir, "broker-%d.properties" % broker_id)
        self.log = os.path.join(self.workdir, "broker-%d.log" % broker_id)
        self.proc = None
        props = {
            "broker.id": str(broker_id),
            "listeners": "PLAINTEXT://127.0.0.1:%d" % self.port,
            "log.dirs": self.logdir,
            "zookeeper.connect": zk_connect,
            "zookeeper.session.timeout.ms": "6000",
            "num.network.threads": "2",
        }
        props.update(extra or {})
        os.makedirs(self.workdir, exist_ok=True)
        with open(self.config, "w") as f:
            for k, v in props.items():
                f.write("%s=%s\n" % (k, v))

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def spawn(self, *args):
        """Start the process without waiting for anything."""
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [build_path("kbroker", "kbroker")] + list(args) + [self.config],
            stdout=out, stderr=subprocess.STDOUT)
        out.close()
        return self.proc

    def start(self, *args, timeout=60.0):
        self.spawn(*args)
        zk = zk_client(self.zk_connect)
        try:
            def ready():
                if self.proc.poll() is not None:
                    raise AssertionError("kbroker %d exited with %s:\n%s" % (
                        self.id, self.proc.returncode, self.output()))
                return zk.exists("/brokers/ids/%d" % self.id)
            wait_for(ready, timeout, "broker %d to register" % self.id)
        finally:
            zk.stop()
            zk.close()
        return self

    def output(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait(self, timeout=60.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("kbroker %d did not exit:\n%s" % (self.id, self.output()))

    def stop(self, timeout=60.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
