# SPDX-License-Identifier: Apache-2.0
"""A whole local cluster for integration tests, through tools/kcluster.

    with Cluster(workdir, brokers=3, controllers=2) as c:
        c.bootstrap          # "127.0.0.1:P1,127.0.0.1:P2,..."
        c.kill("controller", 101); c.start("broker", 2)
        run_steps((check_a, check_b), c, c.zk())

Every test that uses this also tests kcluster itself: `up` returns only
when every broker is registered and a controller is active.
zookeepers=3 (or 5) runs a real ZooKeeper ensemble, zk_chroot="/skald"
puts the cluster under a chroot, zookeeper="host:port,..." uses an
ensemble another Cluster runs (c.zk_hosts); c.zk_status() tells each
server's state and mode and c.zk_leader() the ensemble's leader.  Short
ZooKeeper sessions (6 s) keep failover tests quick.  A failure that
leaves the `with` block prints the last fail_tail lines of every log
first; the ZooKeeper clients c.zk() gave are stopped.
"""

import collections
import json
import os
import subprocess
import time

from kbroker import build_path, wait_for, zk_client  # noqa: F401


class Cluster:
    def __init__(self, workdir, brokers=3, controllers=2, broker_set=None,
                 controller_set=None, racks=None, fail_tail=40,
                 zookeepers=1, zk_chroot=None, zookeeper=None,
                 listeners=None, security=None):
        self.dir = os.path.abspath(os.path.join(workdir, "cluster"))
        self.nbrokers = brokers
        self.ncontrollers = controllers
        self.broker_set = {"zookeeper.session.timeout.ms": "6000",
                           "num.network.threads": "2"}
        self.broker_set.update(broker_set or {})
        self.controller_set = {"zookeeper.session.timeout.ms": "6000"}
        self.controller_set.update(controller_set or {})
        self.racks = racks          # broker i gets racks[(i - 1) % len]
        self.listeners = listeners  # names: kcluster --listeners
        self.security = security    # kcluster --security (sasl_ssl)
        self.client_properties = None  # the file --security writes
        self.bootstrap = None
        self.bootstraps = {}        # the other listeners' bootstrap lists
        self.metrics = {}           # ("broker", 1) -> its /metrics URL
        self.zk_connect = None
        self.fail_tail = fail_tail
        self.zks = []
        self.zookeepers = zookeepers
        self.zk_chroot = zk_chroot
        self.zookeeper = zookeeper

    def kcluster(self, verb, *rest, timeout=300):
        args = [build_path("tools", "kcluster"), verb, "--dir", self.dir]
        args += list(rest)
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise AssertionError("kcluster %s failed (%d): %s\n%s" %
                                 (" ".join(args[1:]), r.returncode, r.stderr,
                                  self.logs()))
        return r.stdout

    def up(self):
        args = ["up", "--brokers", str(self.nbrokers), "--controllers",
                str(self.ncontrollers)]
        for k, v in self.broker_set.items():
            args += ["--set", "%s=%s" % (k, v)]
        for k, v in self.controller_set.items():
            args += ["--controller-set", "%s=%s" % (k, v)]
        if self.racks:
            args += ["--racks", ",".join(self.racks)]
        if self.zookeeper:
            args += ["--zookeeper", self.zookeeper]
        elif self.zookeepers != 1:
            args += ["--zookeepers", str(self.zookeepers)]
        if self.zk_chroot:
            args += ["--zk-chroot", self.zk_chroot]
        if self.listeners:
            args += ["--listeners", ",".join(self.listeners)]
        if self.security:
            args += ["--security", self.security]
        out = self.kcluster(*args)
        for line in out.splitlines():
            k, _, v = line.partition("=")
            if k == "bootstrap.servers":
                self.bootstrap = v
            elif k == "zookeeper.connect":
                self.zk_connect = v
            elif k == "client.properties":
                self.client_properties = v
            elif k.startswith("bootstrap."):
                self.bootstraps[k[len("bootstrap."):]] = v
            elif k.startswith("metrics."):
                kind, _, id = k[len("metrics."):].partition(".")
                self.metrics[(kind, int(id))] = v
        assert self.bootstrap and self.zk_connect, out
        return self

    def down(self):
        self.kcluster("down")
        self.check_sanitizers()

    def check_sanitizers(self):
        """Fail on any AddressSanitizer/UBSan/LeakSanitizer report in a log
        (the CI build runs the daemons with sanitizers)."""
        marks = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                 "runtime error:")
        for name in sorted(os.listdir(self.dir)):
            if not name.endswith(".log") or name.startswith("zookeeper"):
                continue
            with open(os.path.join(self.dir, name), errors="replace") as f:
                text = f.read()
            for m in marks:
                if m in text:
                    i = text.index(m)
                    raise AssertionError("%s: sanitizer report:\n%s" %
                                         (name, text[max(0, i - 200):i + 3000]))

    def kill(self, kind, id=None):
        self.kcluster("kill", kind, *([str(id)] if id is not None else []))

    def stop(self, kind, id=None):
        self.kcluster("stop", kind, *([str(id)] if id is not None else []))

    def pause(self, kind, id=None):
        self.kcluster("pause", kind, *([str(id)] if id is not None else []))

    def resume(self, kind, id=None):
        self.kcluster("resume", kind, *([str(id)] if id is not None else []))

    def start(self, kind, id=None):
        self.kcluster("start", kind, *([str(id)] if id is not None else []))

    def data_dir(self, b):
        """Broker b's log dir as kcluster made it."""
        return os.path.join(self.dir, "broker-%d-data" % b)

    def set_log_dirs(self, b, dirs):
        """Broker b restarted with log.dirs=dirs (it had kcluster's one)."""
        props = os.path.join(self.dir, "broker-%d.properties" % b)
        with open(props) as f:
            text = f.read()
        was = "log.dirs=%s\n" % self.data_dir(b)
        assert was in text, text
        self.stop("broker", b)
        with open(props, "w") as f:
            f.write(text.replace(was, "log.dirs=%s\n" % ",".join(dirs)))
        self.start("broker", b)

    @property
    def zk_hosts(self):
        """The connect string without the chroot (for another cluster)."""
        return self.zk_connect.split("/", 1)[0]

    def zk_status(self):
        """{id: (state, mode, port)} of the ZooKeeper servers kcluster runs
        (id 1 for a lone server), from `kcluster status`: state running,
        paused or stopped; mode leader, follower, standalone, "not serving"
        or None."""
        out = {}
        for line in self.kcluster("status").splitlines():
            name, sep, rest = line.partition(": ")
            if not sep or not name.startswith("zookeeper"):
                continue
            id = int(name.split("-")[1]) if "-" in name else 1
            words = rest.split()
            port = int(words[-1].rsplit(":", 1)[1])
            mode = " ".join(words[1:-1]) or None
            out[id] = (words[0], mode, port)
        return out

    def zk_leader(self, timeout=120):
        """The id of the ensemble's leader, once there is one."""
        found = []

        def one():
            for id, (_, mode, _) in self.zk_status().items():
                if mode in ("leader", "standalone"):
                    found.append(id)
                    return True
            return False
        wait_for(one, timeout, "a ZooKeeper leader")
        return found[-1]

    def broker_port(self, id):
        return int(self.bootstrap.split(",")[id - 1].rsplit(":", 1)[1])

    def logs(self, tail=40):
        """The last lines of every process log, for failure messages."""
        out = []
        if not os.path.isdir(self.dir):
            return ""
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    lines = f.readlines()[-tail:]
                out.append("--- %s\n%s" % (name, "".join(lines)))
        return "\n".join(out)

    def zk(self):
        """A kazoo client of the cluster's ZooKeeper, stopped at the end."""
        z = zk_client(self.zk_connect)
        self.zks.append(z)
        return z

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        if exc[0] is not None:
            # the failure first: a log reader that keeps only part of the
            # output still sees what went wrong, then the daemons' logs
            import traceback
            print("FAILED: " + "".join(traceback.format_exception(*exc)).rstrip())
            print(self.logs(self.fail_tail))
        for z in self.zks:
            z.stop()
        if exc[0] is None:
            self.down()  # and fail on sanitizer reports
            return False
        try:
            self.down()
        except Exception as e:
            print(e)
        return False


class Stranded:
    """Watches a confluent-kafka producer's statistics for librdkafka 2.0's
    stranded partitions (Debian 12's client): it can keep a partition on a
    broker other than the leader its own metadata names, for good, when it
    reads an older leader from one broker's metadata and the newer one from
    another's in quick succession while the partition migrates between its
    broker threads ("leader N unchanged, not migrating away from preferred
    replica N"; librdkafka issues 3399 and 4976, seen against Kafka's
    brokers too).  conf(c) adds the statistics to a producer
    configuration; a partition held off its leader in two statistics in a
    row (5 s apart) is stranded, not migrating; excuse(failed) takes the
    messages the client never sent to a stranded partition out of a list
    of (error, "partition P") and says so."""

    def __init__(self, topic):
        self.topic = topic
        self.stats = None
        self.stranded, self.seen = {}, {}

    def conf(self, c):
        c.setdefault("statistics.interval.ms", 5000)
        c.setdefault("stats_cb", self.on_stats)
        return c

    def on_stats(self, js):
        self.stats = js
        try:
            now = self.misplaced()
        except (ValueError, KeyError, TypeError):
            return
        for k, v in now.items():
            if self.seen.get(k) == v:
                self.stranded[k] = v
        self.seen = now

    def misplaced(self):
        """{"partition P": (held by, leader)} in the last statistics."""
        import json

        if self.stats is None:
            return {}
        st = json.loads(self.stats)
        parts = st.get("topics", {}).get(self.topic, {}).get("partitions", {})
        out = {}
        for b in st.get("brokers", {}).values():
            for tp in b.get("toppars", {}).values():
                if tp.get("topic") != self.topic:
                    continue
                leader = parts.get(str(tp["partition"]), {}).get("leader", -1)
                if leader >= 0 and b.get("nodeid", -1) >= 0 and leader != b["nodeid"]:
                    out["partition %d" % tp["partition"]] = (b["nodeid"], leader)
        return out

    def excuse(self, failed):
        """failed without what the client never sent to a stranded
        partition (timed out or purged there)."""
        if not self.stranded:
            return failed
        from confluent_kafka import KafkaError

        unsent = (KafkaError._MSG_TIMED_OUT, KafkaError._PURGE_QUEUE,
                  KafkaError._PURGE_INFLIGHT)
        left = [f for f in failed
                if f[1] not in self.stranded or f[0].code() not in unsent]
        print("the producer stranded %s on a broker that did not lead it "
              "(held by, leader: %s), a librdkafka 2.0 bug; %d messages it "
              "never sent there are not counted" % (
                  ", ".join(sorted(self.stranded)), self.stranded,
                  len(failed) - len(left)))
        return left


class Writer:
    """An acks=all confluent-kafka producer writing the integers base,
    base+1, ... to a topic from a thread, until finish(); acked holds the
    acknowledged values, failed the delivery errors (nothing may be lost:
    the tests read acked back); where maps a value to the partition and
    offset its acknowledgement gave; conf adds producer settings
    (enable.idempotence)."""

    def __init__(self, c, topic, base=0, pause_every=50, pause=0.005, conf=None):
        import threading

        self.c, self.topic = c, topic
        self.acked, self.failed, self.where = set(), [], {}
        self.stop = threading.Event()
        self.i = base
        self.stuck = 0
        self.watch = Stranded(topic)
        self.pause_every, self.pause = pause_every, pause
        self.conf = conf or {}
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        from confluent_kafka import Producer

        conf = {"bootstrap.servers": self.c.bootstrap, "acks": "all",
                "message.timeout.ms": 300000, "linger.ms": 5,
                "retry.backoff.ms": 100, "socket.timeout.ms": 10000}
        conf.update(self.conf)
        self.watch.conf(conf)
        p = Producer(conf)

        def cb(err, msg):
            if err is None:
                self.acked.add(int(msg.value()))
                self.where[int(msg.value())] = (msg.partition(), msg.offset())
            else:
                self.failed.append((err, "partition %d" % msg.partition()))

        while not self.stop.is_set():
            try:
                p.produce(self.topic, value=str(self.i).encode(), on_delivery=cb)
            except BufferError:
                p.poll(0.1)
                continue
            p.poll(0)
            self.i += 1
            if self.i % self.pause_every == 0:
                time.sleep(self.pause)
        left = p.flush(300)
        if left:
            # say which partitions they were stuck on: purged messages
            # report their partition to the callback
            p.purge()
            p.flush(30)
            self.stuck = left

    def progress(self, n, what, timeout=120):
        start = len(self.acked)
        wait_for(lambda: len(self.acked) >= start + n, timeout, what)

    def finish(self):
        self.stop.set()
        self.t.join(400)
        assert not self.t.is_alive()
        # the client's own bug, told apart by its own statistics: what it
        # never sent to a partition it stranded is not counted against the
        # cluster (the tests still read back every acknowledged record)
        left = self.watch.excuse(self.failed)
        if self.stuck and not left and self.failed:
            self.stuck = 0
        self.failed = left
        assert not self.stuck, "%d messages never delivered: %s" % (
            self.stuck, collections.Counter(where for _, where in self.failed))


def run_steps(steps, *args):
    """Each step(*args) in turn, and "ok: name (seconds)" after it."""
    for step in steps:
        t0 = time.monotonic()
        step(*args)
        print("ok: %s (%.1fs)" % (step.__name__, time.monotonic() - t0))


def metadata_partitions(port, topic):
    """topic's partitions as a broker's Metadata (v9, spoken by kwire)
    lists them, by index; None when that broker does not know the
    topic."""
    import kwire

    with kwire.Wire(port) as w:
        m = w.call(3, 9, {"topics": [{"name": topic}],
                          "allow_auto_topic_creation": False,
                          "include_cluster_authorized_operations": False,
                          "include_topic_authorized_operations": False})
    t = m["topics"][0]
    if t["error_code"] != 0:
        return None
    return sorted(t["partitions"], key=lambda q: q["partition_index"])


def zk_isrs(zk, topic, parts):
    """Each partition's ISR in its state znode, sorted."""
    return [sorted(json.loads(zk.get("/brokers/topics/%s/partitions/%d/state"
                                     % (topic, p))[0])["isr"])
            for p in range(parts)]


def metadata_isrs(c, topic, parts, brokers=(1, 2, 3)):
    """Each broker's Metadata ISRs of topic, sorted (None when one does
    not know the topic whole)."""
    out = []
    for b in brokers:
        ps = metadata_partitions(c.broker_port(b), topic)
        if ps is None or len(ps) != parts:
            return None
        out.append([sorted(q["isr_nodes"]) for q in ps])
    return out


def led(admin, topic, n, isr=None):
    """Every one of topic's n partitions has a leader, and, given isr, that
    many in-sync replicas, in the Metadata of the broker a confluent-kafka
    AdminClient asks; false while that broker does not know the topic yet
    (one just started, or not yet reached by the controller's
    UpdateMetadata: the topic unknown, no partitions)."""
    md = admin.list_topics(topic, timeout=30).topics.get(topic)
    return md is not None and md.error is None and len(md.partitions) == n and \
        all(p.leader >= 1 and p.error is None and (isr is None or len(p.isrs) == isr)
            for p in md.partitions.values())


def create_led_by_1(c, zk, topic, parts):
    """An RF 3 topic whose every partition broker 1 leads (brokers 2 and 3
    take turns as the first follower), min.insync.replicas 2; returns once
    every ISR is full in ZooKeeper and in every broker's Metadata."""
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    assign = [[1, 2, 3] if p % 2 == 0 else [1, 3, 2] for p in range(parts)]
    t = NewTopic(topic, parts, replica_assignment=assign,
                 config={"min.insync.replicas": "2"})
    a.create_topics([t])[topic].result(120)
    wait_for(lambda: all(zk.exists("/brokers/topics/%s/partitions/%d/state" % (topic, p))
                         for p in range(parts)) and
             zk_isrs(zk, topic, parts) == [[1, 2, 3]] * parts, 120, "full ISRs of " + topic)
    wait_for(lambda: metadata_isrs(c, topic, parts) == [[[1, 2, 3]] * parts] * 3, 120,
             "full ISRs in every broker's Metadata")


def read_values(bootstrap, topic, parts, ints_only=False):
    """Every message value of a topic as an int, partition by partition in
    offset order, up to each partition's high watermark (confluent-kafka,
    assigned partitions: no group coordinator needed); ints_only skips
    values that are not decimal numbers (other writers' records)."""
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                     "enable.auto.commit": False})
    got = []
    for part in range(parts):
        tp = TopicPartition(topic, part)
        lo, hi = cons.get_watermark_offsets(tp, timeout=60)
        cons.assign([TopicPartition(topic, part, lo)])
        seen = 0
        deadline = time.monotonic() + 120
        while seen < hi - lo and time.monotonic() < deadline:
            m = cons.poll(1.0)
            if m is None or m.error():
                continue
            seen += 1
            if not ints_only or m.value().isdigit():
                got.append(int(m.value()))
        assert seen == hi - lo, "%s-%d: read %d of %d" % (topic, part, seen, hi - lo)
    cons.close()
    return got


def group_partition(group, n=50):
    """Kafka's placement of a group: abs(Java String.hashCode) % n, the
    hash over UTF-16 code units, abs(MIN_VALUE) = 0."""
    h = 0
    u = group.encode("utf-16-be")
    for i in range(0, len(u), 2):
        h = (31 * h + int.from_bytes(u[i:i + 2], "big")) & 0xffffffff
    h = h - (1 << 32) if h >= 1 << 31 else h
    return (0 if h == -(1 << 31) else abs(h)) % n
