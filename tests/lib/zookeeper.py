# SPDX-License-Identifier: Apache-2.0
"""Run a real ZooKeeper server (Debian's `zookeeper` package) for tests.

    with ZooKeeper(workdir) as zk:
        connect = zk.connect       # "127.0.0.1:PORT"

The server is a standalone QuorumPeerMain on a free loopback port, with its
data in workdir.  start() returns once the server answers `srvr` with a mode
(it is then serving requests), not after a fixed sleep.  stop() ends it with
SIGTERM, kill() with SIGKILL; a stopped server can be started again on the
same port and data (to test brokers riding out a ZooKeeper outage).
"""

import os
import signal
import socket
import subprocess
import time

ZK_JAR = "/usr/share/java/zookeeper.jar"


def free_port():
    """A TCP port on 127.0.0.1 that nothing uses right now, below the
    kernel's ephemeral range (as kcluster picks them): a port the kernel
    handed out could become some client's local port before our daemon
    listens on it."""
    import random

    for _ in range(1000):
        port = random.randrange(20000, 32000)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port between 20000 and 31999")


def four_letter(port, cmd, timeout=2.0):
    """Send a ZooKeeper four-letter command; return the reply or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(cmd.encode())
            chunks = []
            while True:
                b = s.recv(4096)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return None


class ZooKeeper:
    def __init__(self, workdir, port=None, tick_ms=500):
        self.workdir = os.path.abspath(workdir)
        self.port = port or free_port()
        self.tick_ms = tick_ms
        self.proc = None
        os.makedirs(os.path.join(self.workdir, "data"), exist_ok=True)
        self.cfg = os.path.join(self.workdir, "zoo.cfg")
        with open(self.cfg, "w") as f:
            f.write("tickTime=%d\n" % tick_ms)
            f.write("dataDir=%s\n" % os.path.join(self.workdir, "data"))
            f.write("clientPort=%d\n" % self.port)
            f.write("clientPortAddress=127.0.0.1\n")
            f.write("admin.enableServer=false\n")
            f.write("4lw.commands.whitelist=ruok,srvr,stat,mntr\n")
            # Brokers ask for 6-18 s sessions; allow short ones in tests.
            f.write("minSessionTimeout=%d\n" % (2 * tick_ms))
            f.write("maxSessionTimeout=60000\n")
        with open(os.path.join(self.workdir, "log4j.properties"), "w") as f:
            f.write("log4j.rootLogger=WARN, F\n")
            f.write("log4j.appender.F=org.apache.log4j.FileAppender\n")
            f.write("log4j.appender.F.File=%s\n" % os.path.join(self.workdir, "zookeeper.log"))
            f.write("log4j.appender.F.layout=org.apache.log4j.PatternLayout\n")
            f.write("log4j.appender.F.layout.ConversionPattern=%d %p %c: %m%n\n")

    @property
    def connect(self):
        return "127.0.0.1:%d" % self.port

    def start(self, timeout=60.0):
        if self.proc is not None and self.proc.poll() is None:
            return
        out = open(os.path.join(self.workdir, "stdout.log"), "ab")
        cp = "%s:%s" % (self.workdir, ZK_JAR)
        self.proc = subprocess.Popen(
            ["java", "-Xmx256m", "-cp", cp,
             "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.cfg],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.workdir)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("zookeeper exited with %d; see %s" %
                                   (self.proc.returncode, self.workdir))
            reply = four_letter(self.port, "srvr")
            if reply and "Mode:" in reply:
                return
            time.sleep(0.1)
        raise RuntimeError("zookeeper on port %d did not start within %.0f s" %
                           (self.port, timeout))

    def _end(self, sig, timeout=30.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        self._end(signal.SIGTERM)

    def kill(self):
        self._end(signal.SIGKILL)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
