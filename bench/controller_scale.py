#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The controller at scale (make bench-controller): a kcluster of 3 brokers
and 2 controllers (101, 102), 10,000 partitions of replication factor 3.

1. create: the partitions in ONE CreateTopics request (confluent-kafka
   AdminClient), timed until every partition has a leader and a full ISR
   in every broker's Metadata (target <= 10 s);
2. broker failure: SIGKILL a broker; from its /brokers/ids/N znode going
   until every partition it led has a live leader in the Metadata of the
   remaining brokers (target <= 2 s); restarted, back in every ISR, its
   leadership returned by the auto rebalance;
3. controller failover: SIGKILL the active controller; from /controller
   going until the new controller logs "in charge" (before that line
   existed: "active controller"); then, stricter, SIGKILL the active
   controller and a broker together and time the broker's partitions'
   new leaders in Metadata (the election of a controller included);
4. controlled shutdown: SIGTERM (sent by the bench itself, timed from the
   kill() call) a broker leading ~1/3 of the partitions while an acks=all
   producer writes round-robin to every partition: until its partitions'
   new leaders are in the other brokers' Metadata (watched by a process
   per broker, timed when the answer is received), the broker's controlled
   shutdown from its log, the producer's delivery errors (target: new
   leaders <= 1 s, no error);
5. restart: stop a broker (SIGTERM, then again with SIGKILL) and start it
   again: from the start until it has loaded its logs (its "loaded N logs"
   line), until every ISR is full again in ZooKeeper (the state znodes) and
   in every broker's Metadata (target <= 10 s);
6. recovering failover: restart a broker, and 3 s after it is back SIGKILL
   the active controller and a second broker together: from both znodes
   gone until every partition has a live leader in the Metadata of the
   brokers left (target <= 2 s, as in the quiet cluster of 3.);
7. idle: CPU of every broker and controller over 10 s (target <= 1 % of a
   core), each broker's memory maps against vm.max_map_count.

Figures are for issue notes; nothing here is a test assertion.  A measure
that does not finish in its time is reported as such and the run goes on.
Run from a build directory: top_builddir (binaries) and top_srcdir (the
tests' Python helpers) come from the environment, as for the tests.

    bench/controller_scale.py [--partitions 10000] [--topics 1]
        [--brokers 3] [--rate 10000] [--only measure,...] [--keep] [--json]
        [--set broker.key=value ...]
"""

import argparse
import datetime
import json
import logging
import multiprocessing
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.environ.get("top_srcdir", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))

from cluster import Cluster  # noqa: E402
from kbroker import zk_client  # noqa: E402

logging.getLogger("kazoo").setLevel(logging.CRITICAL)

CREATE_TARGET_MS = 10000
FAILOVER_TARGET_MS = 2000
SHUTDOWN_TARGET_MS = 1000
RESTART_TARGET_MS = 10000
RECOVERING_DELAY_S = 3  # the double failure this long after the restart
IDLE_CPU_TARGET = 1.0
IMBALANCE_CHECK_S = 5
POLL_S = 0.03           # between two Metadata/ZooKeeper polls while timing
MEASURE_TIMEOUT_S = 120  # one timed measure
RECOVER_TIMEOUT_S = 180  # a restarted broker back in every ISR


def out(msg):
    print(msg, flush=True)


def proc_alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def log_time(line):
    """The wall-clock time (UTC) a daemon's log line starts with."""
    stamp = line.split(" ", 1)[0]
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Timeout(Exception):
    pass


# ------------------------------------------------------------ Metadata

_I32 = struct.Struct(">i")
_PART = struct.Struct(">hiii")
_ARRS = [struct.Struct(">%di" % n) for n in range(64)]


class MetaClient:
    """Metadata v1 of all topics from one broker (this broker's own view,
    not whichever broker a client library picks), on a plain socket: cheap
    enough to poll 10,000 partitions every few tens of ms."""

    def __init__(self, bid, host, port):
        self.id, self.addr, self.sock, self.corr = bid, (host, port), None, 0

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _recv(self, n):
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            k = self.sock.recv_into(view[got:], n - got)
            if k == 0:
                raise ConnectionError("broker %d closed the connection" % self.id)
            got += k
        return buf

    def send(self, timeout=30.0):
        """Ask for the Metadata (answer read by recv); raises OSError."""
        try:
            if self.sock is None:
                self.sock = socket.create_connection(self.addr, timeout=timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.settimeout(timeout)
            self.corr += 1
            cid = b"controller-scale"
            body = struct.pack(">hhih", 3, 1, self.corr, len(cid)) + cid + _I32.pack(-1)
            self.sock.sendall(_I32.pack(len(body)) + body)
        except OSError:
            self.close()
            raise

    def recv(self, parse=None):
        """The answer to send(): {topic: [(leader, replicas, isr) by
        partition]} (or what parse makes of it) or raises OSError;
        self.t_recv is the monotonic time its last byte was read (before
        parsing it)."""
        try:
            n = _I32.unpack(self._recv(4))[0]
            buf = self._recv(n)
            self.t_recv = time.monotonic()
        except OSError:
            self.close()
            raise
        if _I32.unpack_from(buf, 0)[0] != self.corr:
            self.close()
            raise ConnectionError("correlation id mismatch")
        return (parse or parse_metadata_v1)(buf)

    def fetch(self, timeout=30.0, parse=None):
        """{topic: [(leader, replicas, isr) by partition]} or raises OSError."""
        self.send(timeout)
        return self.recv(parse)


def _topics_at(buf):
    """Where a Metadata v1 answer's topic count is: past the correlation
    id, the brokers and the controller id."""
    off = 4
    nb = _I32.unpack_from(buf, off)[0]
    off += 4
    for _ in range(nb):
        hl = struct.unpack_from(">h", buf, off + 4)[0]
        off += 6 + hl + 4
        rl = struct.unpack_from(">h", buf, off)[0]
        off += 2 + max(rl, 0)
    return off + 4


def parse_metadata_v1(buf):
    off = _topics_at(buf)
    nt = _I32.unpack_from(buf, off)[0]
    off += 4
    topics = {}
    unpack_part, unpack_i32 = _PART.unpack_from, _I32.unpack_from
    for _ in range(nt):
        _err, nl = struct.unpack_from(">hh", buf, off)
        off += 4
        name = bytes(buf[off:off + nl]).decode()
        off += nl + 1
        np = unpack_i32(buf, off)[0]
        off += 4
        parts = [None] * max(np, 0)
        for _ in range(np):
            _perr, pid, leader, nr = unpack_part(buf, off)
            off += 14
            reps = _ARRS[nr].unpack_from(buf, off)
            off += 4 * nr
            ni = unpack_i32(buf, off)[0]
            off += 4
            isr = _ARRS[ni].unpack_from(buf, off)
            off += 4 * ni
            if 0 <= pid < np:
                parts[pid] = (leader, reps, isr)
        topics[name] = parts
    return topics


def _watch_leaders(host, port, bid, affected, live, conn, period):
    """A process of its own (no producer thread to share an interpreter
    with): once told to go, poll broker bid's Metadata until every
    partition of affected is led by a broker of live.  Sends back the
    monotonic time that answer was received, the time the last answer
    that did not show them all was asked for (the truth lies between),
    how many were asked, their mean round trip and when each was asked
    and answered."""
    mc = MetaClient(bid, host, port)
    if conn.recv() != "go":
        return
    n, spent, before, trace = 0, 0.0, None, []
    end = time.monotonic() + 60
    while time.monotonic() < end:
        t = time.monotonic()
        try:
            v = mc.fetch(timeout=max(1.0, end - t), parse=parse_leaders_v1)
        except OSError:
            time.sleep(period)
            continue
        n += 1
        spent += mc.t_recv - t
        trace.append((t, mc.t_recv))
        if all(v.get(tp) is not None and i < len(v[tp]) and v[tp][i] in live
               for tp, i in affected):
            conn.send((mc.t_recv, before, n, spent / n, trace))
            return
        before = t
        time.sleep(period)
    conn.send((None, before, n, spent / n if n else 0.0, trace))


def parse_leaders_v1(buf):
    """{topic: [leader by partition]} from a Metadata v1 answer (what the
    watchers need, read faster than parse_metadata_v1)."""
    off = _topics_at(buf)
    nt = _I32.unpack_from(buf, off)[0]
    off += 4
    topics = {}
    unpack_part, unpack_i32 = _PART.unpack_from, _I32.unpack_from
    for _ in range(nt):
        nl = struct.unpack_from(">h", buf, off + 2)[0]
        off += 4
        name = bytes(buf[off:off + nl]).decode()
        off += nl + 1
        np = unpack_i32(buf, off)[0]
        off += 4
        leaders = [-1] * max(np, 0)
        for _ in range(np):
            _perr, pid, leader, nr = unpack_part(buf, off)
            off += 14 + 4 * nr
            off += 4 + 4 * unpack_i32(buf, off)[0]
            if 0 <= pid < np:
                leaders[pid] = leader
        topics[name] = leaders
    return topics


# ------------------------------------------------------------ the bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.results = {}
        self.lines = []
        self.notes = []
        n, t = args.partitions, args.topics
        if t == 1:
            self.topics = {"scale": n}
        else:
            self.topics = {"scale-%03d" % i: n // t + (1 if i < n % t else 0)
                           for i in range(t)}
        self.rf = min(3, args.brokers)
        self.work = tempfile.mkdtemp(prefix="skald-ctlscale.")
        self.c = Cluster(self.work, brokers=args.brokers, controllers=2,
                         broker_set=dict([("num.network.threads", "2")] +
                                         [kv.split("=", 1) for kv in args.set]),
                         controller_set={
                             "auto.leader.rebalance.enable": "true",
                             "leader.imbalance.check.interval.seconds": str(IMBALANCE_CHECK_S)})
        self.zk = None
        self.meta = {}
        self.live = set(range(1, args.brokers + 1))
        self.client_log = []

    # ---- reporting

    def report(self, key, line, **fields):
        if getattr(self, "polls", None) and key != "idle" and key != "maps":
            n, s, e = self.polls
            fields.setdefault("metadata_polls", n)
            if n:
                fields.setdefault("metadata_poll_avg_ms", round(s / n * 1000, 1))
            out("   (%d Metadata polls while timing it, %.0f ms each on average%s)" % (
                n, s / n * 1000 if n else 0, ", %d failed" % e if e else ""))
            self.polls = None
        self.lines.append(line)
        self.results[key] = fields
        out("** " + line)

    def note(self, msg):
        self.notes.append(msg)
        out("   note: " + msg)

    # ---- cluster helpers

    def path(self, name):
        return os.path.join(self.c.dir, name)

    def pid(self, name):
        try:
            with open(self.path(name + ".pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def log_size(self, name):
        try:
            return os.path.getsize(self.path(name + ".log"))
        except OSError:
            return 0

    def log_lines(self, name, offset=0):
        try:
            with open(self.path(name + ".log"), "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace").splitlines()
        except OSError:
            return []

    def controllers(self):
        return [101, 102]

    def active_controller(self):
        data, stat = self.zk.get("/controller")
        return json.loads(data)["brokerid"], stat

    def client(self, bid):
        if bid not in self.meta:
            self.meta[bid] = MetaClient(bid, "127.0.0.1", self.c.broker_port(bid))
        return self.meta[bid]

    def view(self, bid, timeout=30.0):
        return self.client(bid).fetch(timeout)

    def kcluster(self, verb, kind, id):
        self.c.kcluster(verb, kind, str(id))
        if kind == "broker":
            if verb in ("kill", "stop"):
                self.live.discard(id)
                self.client(id).close()
            elif verb == "start":
                self.live.add(id)

    def client_logger(self):
        bench = self

        class H(logging.Handler):
            def emit(self, rec):
                bench.client_log.append(rec.getMessage())
        lg = logging.getLogger("rdkafka")
        lg.propagate = False
        lg.handlers = [H()]
        lg.setLevel(logging.DEBUG)
        return lg

    # ---- conditions on one broker's Metadata

    def live_complete(self, v):
        """Every partition has a live leader and every replica on a live
        broker in its ISR (= complete() when every broker is up)."""
        for t, n in self.topics.items():
            parts = v.get(t)
            if parts is None or len(parts) != n:
                return False
            for p in parts:
                if p is None or p[0] not in self.live:
                    return False
                for r in p[1]:
                    if r in self.live and r not in p[2]:
                        return False
        return True

    def complete(self, v):
        """Every partition has a leader and a full ISR."""
        for t, n in self.topics.items():
            parts = v.get(t)
            if parts is None or len(parts) != n:
                return False
            for p in parts:
                if p is None or p[0] < 0 or len(p[2]) != len(p[1]) or len(p[1]) != self.rf:
                    return False
        return True

    def led_by(self, v, bid):
        return [(t, i) for t in self.topics for i, p in enumerate(v.get(t) or [])
                if p is not None and p[0] == bid]

    def leaders_moved(self, affected, dead):
        live = self.live - set(dead)

        def cond(v):
            for t, i in affected:
                parts = v.get(t)
                if parts is None or i >= len(parts) or parts[i] is None or \
                        parts[i][0] not in live:
                    return False
            return True
        return cond

    def imbalance(self, v):
        """Per broker: partitions it is the preferred replica of, and how
        many of those it does not lead."""
        pref, off = {}, {}
        for t in self.topics:
            for p in v.get(t) or []:
                if p is None or not p[1]:
                    continue
                b = p[1][0]
                pref[b] = pref.get(b, 0) + 1
                if p[0] != b:
                    off[b] = off.get(b, 0) + 1
        return {b: (off.get(b, 0), pref[b]) for b in pref}

    def poll_brokers(self, brokers, cond, timeout, period=POLL_S):
        """Poll the Metadata of the brokers (all asked at once, then each
        answer read) until cond holds for each (a broker that satisfied it
        is not asked again).  Returns {broker: monotonic time the first
        answer satisfying it was received}; raises Timeout with what is
        known so far."""
        done, todo = {}, list(brokers)
        end = time.monotonic() + timeout
        self.polls = [0, 0.0, 0]  # requests, seconds from asking to parsed, errors
        while todo:
            if time.monotonic() > end:
                raise Timeout(done)
            t = time.monotonic()
            asked = []
            for b in todo:
                try:
                    self.client(b).send(timeout=max(1.0, end - time.monotonic()))
                    asked.append(b)
                except OSError:
                    self.polls[2] += 1
            for b in asked:
                try:
                    v = self.client(b).recv()
                except OSError:
                    self.polls[2] += 1
                    continue
                finally:
                    self.polls[0] += 1
                    self.polls[1] += time.monotonic() - t
                if cond(v):
                    done[b] = self.client(b).t_recv
                    todo.remove(b)
            time.sleep(period)
        return done

    # ---- ZooKeeper

    def watch_gone(self, path):
        """Arm an exists watch on path; returns rec, filled with the
        monotonic and wall-clock time the node was seen gone."""
        rec, ev = {}, threading.Event()

        def seen():
            if "mono" not in rec:
                rec["mono"], rec["wall"] = time.monotonic(), time.time()
            ev.set()

        def cb(event):
            if event.type == "DELETED":
                seen()
            else:
                self.zk.exists_async(path, watch=cb)
        if self.zk.exists(path, watch=cb) is None:
            seen()
        rec["event"] = ev
        return rec

    def wait_gone(self, rec, path, timeout):
        end = time.monotonic() + timeout
        while not rec["event"].wait(0.02):
            if self.zk.exists(path) is None:
                if "mono" not in rec:
                    rec["mono"], rec["wall"] = time.monotonic(), time.time()
                return rec
            if time.monotonic() > end:
                raise Timeout("%s still there after %d s" % (path, timeout))
        return rec

    def state_stats(self, parts):
        """ZooKeeper stats (and leader) of the state znodes of parts."""
        asyncs = [(tp, self.zk.get_async("/brokers/topics/%s/partitions/%d/state" % tp))
                  for tp in parts]
        res = {}
        for tp, a in asyncs:
            try:
                data, stat = a.get(timeout=60)
                res[tp] = (json.loads(data)["leader"], stat)
            except Exception:
                res[tp] = (None, None)
        return res

    # ---- recovery after a restart

    def wait_recovered(self, what, timeout=RECOVER_TIMEOUT_S):
        """Every broker's Metadata shows every ISR full; then leadership back
        on the preferred replicas (the controller's auto rebalance, every
        IMBALANCE_CHECK_S).  Prints how long each took."""
        t0 = time.monotonic()
        try:
            self.poll_brokers(sorted(self.live), self.live_complete, timeout, period=0.5)
        except Timeout:
            self.note("%s: ISRs not full after %d s" % (what, timeout))
            return False
        if len(self.live) < self.args.brokers:
            self.note("%s: only brokers %s are running" % (what, sorted(self.live)))
        t_isr = time.monotonic() - t0
        # leadership: all preferred, or within the controller's 10 % a broker
        end = time.monotonic() + 6 * IMBALANCE_CHECK_S + 30
        imb = {}
        while time.monotonic() < end:
            imb = {b: x for b, x in self.imbalance(self.view(min(self.live))).items()
                   if b in self.live}
            if all(o == 0 for o, _ in imb.values()):
                break
            time.sleep(0.5)
        t_lead = time.monotonic() - t0
        left = sum(o for o, _ in imb.values())
        out("   %s: every ISR full after %.1f s; leadership on the preferred "
            "replicas after %.1f s%s" % (
                what, t_isr, t_lead,
                "" if left == 0 else " (still %d partitions off their preferred "
                "leader: %s)" % (left, ", ".join("broker %d %d/%d" % (b, o, n)
                                                 for b, (o, n) in sorted(imb.items())))))
        return True

    def leader_counts(self, bid=None):
        v = self.view(bid or min(self.live))
        counts = {}
        for t in self.topics:
            for p in v.get(t) or []:
                if p is not None:
                    counts[p[0]] = counts.get(p[0], 0) + 1
        return counts

    # ------------------------------------------------------------ 1

    def m_create(self):
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.c.bootstrap,
                             "logger": self.client_logger()})
        admin.list_topics(timeout=30)  # connected before the clock starts
        for b in self.live:
            self.view(b)
        new = [NewTopic(t, n, self.rf) for t, n in self.topics.items()]
        answered = {}
        t0 = time.monotonic()
        fs = admin.create_topics(new, operation_timeout=300, request_timeout=330)
        for t, f in fs.items():
            f.add_done_callback(lambda f, t=t: answered.setdefault(t, time.monotonic()))
        desc = "%d partitions (%d topic%s) of replication factor %d" % (
            self.args.partitions, len(self.topics), "s" if len(self.topics) > 1 else "",
            self.rf)
        try:
            done = self.poll_brokers(sorted(self.live), self.complete, MEASURE_TIMEOUT_S,
                                     period=0.05)
        except Timeout as e:
            self.report("create", "create %s: did not finish within %d s "
                        "(complete on brokers %s)" % (desc, MEASURE_TIMEOUT_S,
                                                       sorted(e.args[0])),
                        ms=None, target_ms=CREATE_TARGET_MS, met=False)
            return False
        ms = (max(done.values()) - t0) * 1000
        errs = []
        for t, f in fs.items():
            try:
                f.result(timeout=60)
            except Exception as e:  # noqa: BLE001
                errs.append("%s: %s" % (t, e))
        if errs:
            self.note("CreateTopics errors: %s" % "; ".join(errs[:5]))
        ans_ms = (max(answered.values()) - t0) * 1000 if len(answered) == len(fs) else None
        # the controller's side, from ZooKeeper: the state znodes' creation
        states = self.state_stats([(t, i) for t, n in self.topics.items() for i in range(n)])
        ctimes = [s.ctime for _, s in states.values() if s is not None]
        zk_ms = None
        if ctimes and len(ctimes) == self.args.partitions:
            # ZooKeeper's clock is this machine's wall clock
            zk_ms = max(ctimes) - (time.time() - (time.monotonic() - t0)) * 1000
        self.report(
            "create",
            "create %s in one CreateTopics: every leader and full ISR in all %d "
            "brokers' Metadata after %.0f ms (per broker %s); CreateTopics "
            "answered after %s ms; last state znode created at +%s ms; "
            "target <= %d ms: %s" % (
                desc, len(done), ms,
                ", ".join("%d: %.0f" % (b, (d - t0) * 1000) for b, d in sorted(done.items())),
                "%.0f" % ans_ms if ans_ms is not None else "?",
                "%.0f" % zk_ms if zk_ms is not None else "?",
                CREATE_TARGET_MS, "met" if ms <= CREATE_TARGET_MS else "NOT met"),
            ms=round(ms), target_ms=CREATE_TARGET_MS, met=ms <= CREATE_TARGET_MS,
            per_broker_ms={b: round((d - t0) * 1000) for b, d in done.items()},
            create_topics_answered_ms=round(ans_ms) if ans_ms is not None else None,
            zk_last_state_created_ms=round(zk_ms) if zk_ms is not None else None,
            errors=errs)
        return True

    # ------------------------------------------------------------ 2

    def m_broker_failure(self, victim):
        v = self.view(min(self.live - {victim}))
        affected = self.led_by(v, victim)
        path = "/brokers/ids/%d" % victim
        rec = self.watch_gone(path)
        self.kcluster("kill", "broker", victim)
        t_kill = time.monotonic()
        key = "broker_failure"
        try:
            self.wait_gone(rec, path, 60)
        except Timeout as e:
            self.report(key, "broker failure: %s" % e, ms=None,
                        target_ms=FAILOVER_TARGET_MS, met=False)
            return
        t0 = rec["mono"]
        cond = self.leaders_moved(affected, [victim])
        rest = sorted(self.live)
        try:
            done = self.poll_brokers(rest, cond, MEASURE_TIMEOUT_S)
        except Timeout as e:
            self.report(key, "broker failure (broker %d, leading %d partitions): did not "
                        "finish within %d s (done on %s)" % (
                            victim, len(affected), MEASURE_TIMEOUT_S, sorted(e.args[0])),
                        ms=None, target_ms=FAILOVER_TARGET_MS, met=False)
            return
        ms = (max(done.values()) - t0) * 1000
        states = self.state_stats(affected)
        mt = [s.mtime for l, s in states.values() if s is not None and l not in (None, victim)]
        zk_ms = max(mt) - rec["wall"] * 1000 if len(mt) == len(affected) and mt else None
        self.report(
            key,
            "broker failure (SIGKILL broker %d, leading %d partitions; its znode went "
            "%.1f s after the kill): new live leaders in the Metadata of brokers %s "
            "%.0f ms after the znode went (per broker %s); the last state znode "
            "written at +%s ms; target <= %d ms: %s" % (
                victim, len(affected), t0 - t_kill, rest, ms,
                ", ".join("%d: %.0f" % (b, (d - t0) * 1000) for b, d in sorted(done.items())),
                "%.0f" % zk_ms if zk_ms is not None else "?",
                FAILOVER_TARGET_MS, "met" if ms <= FAILOVER_TARGET_MS else "NOT met"),
            ms=round(ms), target_ms=FAILOVER_TARGET_MS, met=ms <= FAILOVER_TARGET_MS,
            partitions=len(affected),
            per_broker_ms={b: round((d - t0) * 1000) for b, d in done.items()},
            zk_last_state_written_ms=round(zk_ms) if zk_ms is not None else None)

    # ------------------------------------------------------------ 3

    def wait_controller(self, old, timeout):
        """The new /controller (not old): (id, wall-clock ctime in s)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                data, stat = self.zk.get("/controller")
                cid = json.loads(data)["brokerid"]
                if cid != old:
                    return cid, stat.ctime / 1000.0
            except Exception:  # noqa: BLE001  (NoNodeError)
                pass
            time.sleep(0.02)
        raise Timeout("no new /controller within %d s" % timeout)

    def find_line(self, name, offset, pattern, timeout):
        end = time.monotonic() + timeout
        while True:
            for line in self.log_lines(name, offset):
                if pattern in line:
                    return line
            if time.monotonic() > end:
                return None
            time.sleep(0.05)

    def m_controller_failover(self):
        key = "controller_failover"
        # is the "in charge" line there (the first controller logged it
        # when it took over the empty cluster)?
        in_charge = any("in charge" in l for c in self.controllers()
                        for l in self.log_lines("controller-%d" % c))
        old, _ = self.active_controller()
        offsets = {c: self.log_size("controller-%d" % c) for c in self.controllers()}
        rec = self.watch_gone("/controller")
        self.kcluster("kill", "controller", old)
        t_kill = time.monotonic()
        try:
            self.wait_gone(rec, "/controller", 60)
            new, ctime = self.wait_controller(old, 60)
        except Timeout as e:
            self.report(key, "controller failover: %s" % e, ms=None)
            self.kcluster("start", "controller", old)
            return
        gone = rec["wall"]
        name = "controller-%d" % new
        act = self.find_line(name, offsets[new], "active controller", 60)
        line = self.find_line(name, offsets[new], "in charge",
                              MEASURE_TIMEOUT_S if in_charge else 0) if act else None
        fields = {"killed": old, "new": new,
                  "znode_gone_after_kill_s": round(rec["mono"] - t_kill, 1),
                  "controller_znode_ms": round((ctime - gone) * 1000)}
        if act:
            fields["active_controller_log_ms"] = round((log_time(act) - gone) * 1000)
        if line:
            fields["in_charge_log_ms"] = round((log_time(line) - gone) * 1000)
            m = re.search(r"in charge: (\d+) topics, (\d+) partitions, (\d+) brokers \((\d+) ms",
                          line)
            if m:
                fields["in_charge_reported_load_ms"] = int(m.group(4))
                fields["in_charge_partitions"] = int(m.group(2))
            fields["ms"] = fields["in_charge_log_ms"]
            fields["measured_to"] = "in charge"
            what = "logged \"%s\" %d ms after /controller went" % (
                line.split(": ", 1)[1] if ": " in line else line, fields["ms"])
        elif act:
            fields["ms"] = fields["active_controller_log_ms"]
            fields["measured_to"] = "active controller"
            what = ("%s; logged \"active controller\" %d ms after /controller went "
                    "(fallback: no \"in charge\" line in this build)" % (
                        "no \"in charge\" line within %d s" % MEASURE_TIMEOUT_S
                        if in_charge else "no \"in charge\" line",
                        fields["ms"])) if in_charge else (
                "logged \"active controller\" %d ms after /controller went "
                "(fallback: this kcontroller does not log \"in charge\")" % fields["ms"])
        else:
            fields["ms"] = None
            what = "did not log \"active controller\" within 60 s"
        self.report(key, "controller failover (SIGKILL controller %d; /controller went "
                    "%.1f s after the kill): controller %d re-created /controller after "
                    "%d ms and %s" % (old, rec["mono"] - t_kill, new,
                                      fields["controller_znode_ms"], what), **fields)
        self.kcluster("start", "controller", old)

    def m_controller_and_broker(self, victim):
        key = "controller_and_broker_failure"
        old, _ = self.active_controller()
        v = self.view(min(self.live - {victim}))
        affected = self.led_by(v, victim)
        bpath = "/brokers/ids/%d" % victim
        crec = self.watch_gone("/controller")
        brec = self.watch_gone(bpath)
        self.kcluster("kill", "controller", old)
        self.kcluster("kill", "broker", victim)
        t_kill = time.monotonic()
        try:
            self.wait_gone(crec, "/controller", 60)
            self.wait_gone(brec, bpath, 60)
        except Timeout as e:
            self.report(key, "controller + broker failure: %s" % e, ms=None)
            return old
        t0 = brec["mono"]
        rest = sorted(self.live)
        desc = ("controller %d and broker %d (leading %d partitions) SIGKILLed together; "
                "their znodes went %.1f s / %.1f s after" % (
                    old, victim, len(affected), crec["mono"] - t_kill, brec["mono"] - t_kill))
        try:
            done = self.poll_brokers(rest, self.leaders_moved(affected, [victim]),
                                     MEASURE_TIMEOUT_S)
        except Timeout as e:
            self.report(key, "%s: new leaders did not show within %d s (done on %s)" % (
                desc, MEASURE_TIMEOUT_S, sorted(e.args[0])), ms=None)
            return old
        ms = (max(done.values()) - t0) * 1000
        ms_c = (max(done.values()) - crec["mono"]) * 1000
        new = None
        try:
            new, _ = self.active_controller()
        except Exception:  # noqa: BLE001
            pass
        self.report(key, "%s: new live leaders in the Metadata of brokers %s %.0f ms after "
                    "the broker's znode went (%.0f ms after /controller went; new "
                    "controller %s)" % (desc, rest, ms, ms_c, new),
                    ms=round(ms), from_controller_gone_ms=round(ms_c), partitions=len(affected),
                    per_broker_ms={b: round((d - t0) * 1000) for b, d in done.items()})
        return old

    # ------------------------------------------------------------ 4

    def m_controlled_shutdown(self):
        from confluent_kafka import Producer

        key = "controlled_shutdown"
        v = self.view(min(self.live))
        counts = {}
        for t in self.topics:
            for p_ in v.get(t) or []:
                if p_ is not None:
                    counts[p_[0]] = counts.get(p_[0], 0) + 1
        share = self.args.partitions / len(self.live)
        victim = min((b for b in self.live), key=lambda b: abs(counts.get(b, 0) - share))
        affected = self.led_by(v, victim)
        rest = sorted(self.live - {victim})
        name = "broker-%d" % victim
        # the Metadata watchers: a process per other broker, started before
        # the producer's threads are
        ctx = multiprocessing.get_context("fork")
        watchers = []
        for b in rest:
            mine, theirs = ctx.Pipe()
            w = ctx.Process(target=_watch_leaders, daemon=True, args=(
                "127.0.0.1", self.c.broker_port(b), b, affected, self.live - {victim},
                theirs, POLL_S))
            w.start()
            watchers.append((b, w, mine))
        recs = []          # (monotonic send time, latency s, error name or None)
        full = [0]         # produce() refused: the local queue was full
        stop = threading.Event()
        parts = [(t, i) for t, n in self.topics.items() for i in range(n)]

        def delivered(err, _msg, t0):
            recs.append((t0, time.monotonic() - t0, err.name() if err is not None else None))

        p = Producer({"bootstrap.servers": self.c.bootstrap, "acks": "all",
                      "linger.ms": 5, "logger": self.client_logger(),
                      "error_cb": lambda e: self.client_log.append("error_cb: %s" % e)})
        payload = b"x" * 32

        def send(t, i):
            p.produce(t, payload, partition=i,
                      on_delivery=lambda e, m, t0=time.monotonic(): delivered(e, m, t0))

        # warm-up: one message to every partition, all delivered
        for t, i in parts:
            while True:
                try:
                    send(t, i)
                    break
                except BufferError:
                    p.poll(0.05)
        if p.flush(120) != 0:
            self.note("controlled shutdown: warm-up not delivered within 120 s")
        warm = len(recs)
        warm_err = sum(1 for r in recs if r[2] is not None)
        sent = [0]

        def run():
            k, tick = 0, 0.01
            per_tick = max(1, int(self.args.rate * tick))
            nxt = time.monotonic()
            while not stop.is_set():
                for _ in range(per_tick):
                    t, i = parts[k % len(parts)]
                    try:
                        send(t, i)
                        k += 1
                        sent[0] += 1
                    except BufferError:
                        full[0] += 1
                        break
                p.poll(0)
                nxt += tick
                d = nxt - time.monotonic()
                if d > 0:
                    time.sleep(d)
                else:
                    nxt = time.monotonic()

        th = threading.Thread(target=run, daemon=True)
        t_run = time.monotonic()
        th.start()
        time.sleep(4)
        off = self.log_size(name)
        pid = self.pid(name)
        exited = [None]

        def stopper():
            # the process is gone (or a zombie) when /proc says so; then
            # (or after the usual wait) kcluster finishes the job
            end = time.monotonic() + 60
            while pid is not None and time.monotonic() < end and proc_alive(pid):
                time.sleep(0.01)
            exited[0] = time.monotonic()
            try:
                self.kcluster("stop", "broker", victim)
            except AssertionError as e:
                self.note("kcluster stop broker %d: %s" % (victim, str(e).splitlines()[0]))
        for _b, _w, conn in watchers:
            conn.send("go")
        # the SIGTERM is sent here, by this thread, right after the mark:
        # every figure "after SIGTERM" counts from the kill() call
        t_term = time.time()
        m_term = time.monotonic()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
        st = threading.Thread(target=stopper)
        st.start()
        # meanwhile: when the other brokers' Metadata shows the new leaders
        moved, asked, lower = {}, [0, 0.0], None
        for b, w, conn in watchers:
            if conn.poll(70):
                t, before, n, avg, trace = conn.recv()
                out("   Metadata of broker %d asked/answered at (ms from SIGTERM): %s" % (
                    b, ", ".join("%+.0f/%+.0f" % ((a - m_term) * 1000, (r - m_term) * 1000)
                                 for a, r in trace)))
                asked[0] += n
                asked[1] += n * avg
                if t is not None:
                    moved[b] = t
                if before is not None and (lower is None or before > lower):
                    lower = before
            w.join(5)
        self.polls = [asked[0], asked[1], 0]
        md_ms = (max(moved.values()) - m_term) * 1000 if len(moved) == len(rest) else None
        # the last Metadata asked for that still lacked some new leader
        md_lo = (lower - m_term) * 1000 if lower is not None else None
        st.join()
        exit_s = exited[0] - m_term
        time.sleep(5)
        m_end = time.monotonic()
        stop.set()
        th.join()
        rate = sent[0] / (m_end - t_run)
        left = p.flush(120)
        lines = self.log_lines(name, off)
        ask = next((l for l in lines if "controlled shutdown: asking the controller" in l), None)
        ok = next((l for l in lines if "controlled shutdown succeeded" in l), None)
        failed = next((l for l in lines if "controlled shutdown failed" in l), None)
        ms = (log_time(ok) - log_time(ask)) * 1000 if ask and ok else None
        from_term = (log_time(ok) - t_term) * 1000 if ok else None
        # the mark is taken just before kill(); the broker's own "signal
        # 15" line says when its main loop read the signal
        sig = next((l for l in lines if "signal 15" in l), None)
        sig_late = (log_time(sig) - t_term) * 1000 if sig else None
        md_sig = md_ms - sig_late if md_ms is not None and sig_late is not None else None

        run_recs = recs[warm:]
        errs = sum(1 for r in run_recs if r[2] is not None)
        names = {}
        for r in run_recs:
            if r[2] is not None:
                names[r[2]] = names.get(r[2], 0) + 1

        def lat(lo, hi):
            v = sorted(r[1] for r in run_recs if lo <= r[0] < hi and r[2] is None)
            if not v:
                return None, None
            return v[int(len(v) * 0.99)] * 1000, v[-1] * 1000
        base_p99, base_max = lat(t_run + 1, m_term)
        win_p99, win_max = lat(m_term, m_end)
        # worst latency by second of sending, from SIGTERM
        by_s = {}
        for r in run_recs:
            s_ = int((r[0] - m_term) // 1)
            if -2 <= s_ < m_end - m_term:
                by_s[s_] = max(by_s.get(s_, 0), r[1])
        # the target: every new leader in the other brokers' Metadata within
        # SHUTDOWN_TARGET_MS of the kill() call, and no produce error
        met = md_ms is not None and md_ms <= SHUTDOWN_TARGET_MS and errs == 0 and left == 0
        if ms is None:
            what = ("no \"controlled shutdown succeeded\" in its log%s" %
                    ("; " + failed.split(": ", 1)[-1] if failed else ""))
        else:
            what = "%.0f ms from asking the controller to success (%.0f ms from SIGTERM)" % (
                ms, from_term)

        def f(x):
            return "%.0f" % x if x is not None else "?"
        self.report(
            key,
            "controlled shutdown of broker %d (leading %d partitions) under acks=all "
            "load (%.0f msgs/s round-robin over %d partitions): %s; its partitions' new "
            "leaders in the other brokers' Metadata %s ms after SIGTERM (a Metadata asked "
            "for %s ms after it still lacked some; %s ms after the "
            "broker logged the signal, %s ms after the mark); the process "
            "exited %.1f s after SIGTERM; producer: %d delivery errors%s, %d undelivered, "
            "delivery latency p99/max %s/%s ms from SIGTERM to 5 s after its exit "
            "(before: %s/%s ms); target <= %d ms and no errors: %s" % (
                victim, counts.get(victim, 0), rate, len(parts), what,
                f(md_ms) if md_ms is not None else "(not within 60 s)", f(md_lo), f(md_sig),
                f(sig_late), exit_s,
                errs, (" " + json.dumps(names)) if errs else "", left,
                f(win_p99), f(win_max), f(base_p99), f(base_max),
                SHUTDOWN_TARGET_MS, "met" if met else "NOT met"),
            ms=round(ms) if ms is not None else None, target_ms=SHUTDOWN_TARGET_MS, met=met,
            broker=victim, partitions_led=counts.get(victim, 0),
            from_sigterm_ms=round(from_term) if from_term is not None else None,
            metadata_moved_ms=round(md_ms) if md_ms is not None else None,
            metadata_incomplete_asked_ms=round(md_lo) if md_lo is not None else None,
            metadata_moved_from_signal_ms=round(md_sig) if md_sig is not None else None,
            exit_s=round(exit_s, 2), rate=round(rate), sent=sent[0] + warm,
            local_queue_full=full[0], delivery_errors=errs, error_names=names,
            warmup_errors=warm_err, undelivered=left,
            latency_ms={"before_p99": base_p99, "before_max": base_max,
                        "shutdown_p99": win_p99, "shutdown_max": win_max},
            max_latency_ms_by_send_second={k: round(v * 1000) for k, v in sorted(by_s.items())})
        out("   worst delivery latency by second of sending from SIGTERM: %s" % ", ".join(
            "%+d s: %.0f ms" % (k, v * 1000) for k, v in sorted(by_s.items())))
        if full[0]:
            self.note("the producer's local queue was full %d times" % full[0])
        return victim

    # ------------------------------------------------------------ 5

    def isr_stats(self, bid):
        """ZooKeeper stats of the state znodes of the partitions bid is a
        replica of: {tp: (isr, stat)} (None, None when unreadable)."""
        v = self.view(min(self.live - {bid}) if self.live - {bid} else bid)
        parts = [(t, i) for t in self.topics for i, p in enumerate(v.get(t) or [])
                 if p is not None and bid in p[1]]
        asyncs = [(tp, self.zk.get_async("/brokers/topics/%s/partitions/%d/state" % tp))
                  for tp in parts]
        res = {}
        for tp, a in asyncs:
            try:
                data, stat = a.get(timeout=60)
                res[tp] = (json.loads(data)["isr"], stat)
            except Exception:  # noqa: BLE001
                res[tp] = (None, None)
        return res

    def out_of_isrs(self, bid, timeout):
        """Wait until no ISR in the Metadata of the other brokers holds bid
        (the controller took the stopped broker out)."""
        def cond(v):
            for t in self.topics:
                for p in v.get(t) or []:
                    if p is not None and bid in p[2]:
                        return False
            return True
        try:
            self.poll_brokers(sorted(self.live - {bid}), cond, timeout, period=0.2)
            return True
        except Timeout:
            return False
        finally:
            self.polls = None

    def restart_broker(self, bid, how):
        """Stop (SIGTERM: kcluster stop; SIGKILL: kcluster kill) broker bid,
        wait until the other brokers no longer have it in an ISR, start it.
        Returns (wall-clock start, monotonic start, monotonic back, log
        offset of this run)."""
        path = "/brokers/ids/%d" % bid
        rec = self.watch_gone(path)
        t_stop = time.monotonic()
        self.kcluster("stop" if how == "SIGTERM" else "kill", "broker", bid)
        self.stop_s = time.monotonic() - t_stop
        self.wait_gone(rec, path, 120)
        if not self.out_of_isrs(bid, 120):
            self.note("%s of broker %d: still in some ISR after 120 s" % (how, bid))
        off = self.log_size("broker-%d" % bid)
        t_wall, t0 = time.time(), time.monotonic()
        self.kcluster("start", "broker", bid)
        return t_wall, t0, time.monotonic(), off

    def loaded_line(self, name, off):
        """The broker's "loaded N logs ... in M ms" line after off and
        (N, M), or None."""
        line = self.find_line(name, off, "loaded ", 10)
        if line is None:
            return None
        m = re.search(r"loaded (\d+) logs? .* in (\d+) ms", line)
        return line, (int(m.group(1)), int(m.group(2))) if m else (None, None)

    def m_restart(self, bid, how):
        key = "restart_" + how.lower()
        name = "broker-%d" % bid
        offs = {o: self.log_size("broker-%d" % o) for o in self.live - {bid}}
        t_wall, t0, t_up, off = self.restart_broker(bid, how)
        up_ms = (t_up - t0) * 1000
        try:
            done = self.poll_brokers(sorted(self.live), self.live_complete,
                                     RECOVER_TIMEOUT_S, period=0.1)
        except Timeout as e:
            self.report(key, "restart of broker %d after %s: ISRs not full within %d s "
                        "(complete on %s)" % (bid, how, RECOVER_TIMEOUT_S, sorted(e.args[0])),
                        ms=None, target_ms=RESTART_TARGET_MS, met=False)
            return
        ms = (max(done.values()) - t0) * 1000
        loaded = self.loaded_line(name, off)
        load_ms = nlogs = reported = None
        if loaded is not None:
            load_ms = (log_time(loaded[0]) - t_wall) * 1000
            nlogs, reported = loaded[1]
        started = self.find_line(name, off, "started: broker", 0)
        started_ms = (log_time(started) - t_wall) * 1000 if started else None
        # ZooKeeper: every state znode has it in the ISR again (checked
        # now), and the leaders' last ISR write that put it back, from
        # their "ISR now [...]" lines since the start
        st = self.isr_stats(bid)
        zk_ms = None
        if all(isr is not None and bid in isr for isr, _ in st.values()):
            last = None
            for o in sorted(self.live - {bid}):
                for line in self.log_lines("broker-%d" % o, offs[o]):
                    m = re.search(r": ISR now \[([\d,]*)\]", line)
                    if m and str(bid) in m.group(1).split(","):
                        t = log_time(line)
                        last = t if last is None or t > last else last
            zk_ms = (last - t_wall) * 1000 if last is not None else None
        met = ms <= RESTART_TARGET_MS

        def f(x):
            return "%.0f" % x if x is not None else "?"
        self.report(
            key,
            "restart of broker %d after %s (a replica of %d partitions; it took %.1f s "
            "to stop): logs loaded "
            "after %s ms (%s logs, %s ms by its own count), serving after %s ms "
            "(kcluster start returned after %.0f ms), back in every ISR in ZooKeeper "
            "after %s ms (the leaders' last ISR write adding it), every ISR full in the Metadata of brokers %s after %.0f ms "
            "(per broker %s); target <= %d ms: %s" % (
                bid, how, len(st), self.stop_s, f(load_ms), nlogs if nlogs is not None else "?",
                f(reported), f(started_ms), up_ms, f(zk_ms), sorted(done), ms,
                ", ".join("%d: %.0f" % (b, (d - t0) * 1000) for b, d in sorted(done.items())),
                RESTART_TARGET_MS, "met" if met else "NOT met"),
            ms=round(ms), target_ms=RESTART_TARGET_MS, met=met, signal=how,
            stop_s=round(self.stop_s, 1),
            partitions=len(st), loaded_ms=round(load_ms) if load_ms is not None else None,
            logs_loaded=nlogs, load_reported_ms=reported,
            started_ms=round(started_ms) if started_ms is not None else None,
            kcluster_start_ms=round(up_ms), zk_isr_full_ms=round(zk_ms) if zk_ms is not None
            else None, per_broker_ms={b: round((d - t0) * 1000) for b, d in done.items()})

    # ------------------------------------------------------------ 6

    def m_recovering_failover(self, restarted, victim):
        key = "recovering_failover"
        t_wall, t0, t_up, off = self.restart_broker(restarted, "SIGTERM")
        time.sleep(max(0.0, t_up + RECOVERING_DELAY_S - time.monotonic()))
        old, _ = self.active_controller()
        every = [(t, i) for t, n in self.topics.items() for i in range(n)]
        v = self.view(min(self.live - {victim}))
        led = len(self.led_by(v, victim))
        bpath = "/brokers/ids/%d" % victim
        crec = self.watch_gone("/controller")
        brec = self.watch_gone(bpath)
        t_kill = time.monotonic()
        self.kcluster("kill", "controller", old)
        self.kcluster("kill", "broker", victim)
        try:
            self.wait_gone(crec, "/controller", 60)
            self.wait_gone(brec, bpath, 60)
        except Timeout as e:
            self.report(key, "recovering failover: %s" % e, ms=None, target_ms=FAILOVER_TARGET_MS,
                        met=False)
            return
        t_gone = max(crec["mono"], brec["mono"])
        rest = sorted(self.live)
        desc = ("broker %d restarted (serving %.1f s after its start), %.0f s later controller "
                "%d and broker %d (leading %d partitions) SIGKILLed together; their znodes "
                "went %.1f s / %.1f s after" % (
                    restarted, t_up - t0, t_kill - t_up, old, victim, led,
                    crec["mono"] - t_kill, brec["mono"] - t_kill))
        try:
            done = self.poll_brokers(rest, self.leaders_moved(every, [victim]),
                                     MEASURE_TIMEOUT_S)
        except Timeout as e:
            self.report(key, "%s: not every partition had a live leader within %d s "
                        "(done on %s)" % (desc, MEASURE_TIMEOUT_S, sorted(e.args[0])),
                        ms=None, target_ms=FAILOVER_TARGET_MS, met=False)
            return
        ms = (max(done.values()) - t_gone) * 1000
        new = None
        try:
            new, _ = self.active_controller()
        except Exception:  # noqa: BLE001
            pass
        in_charge = None
        if new is not None:
            # the new controller's last "in charge" line
            lines = [l for l in self.log_lines("controller-%d" % new) if "in charge" in l]
            if lines:
                wall_gone = time.time() - (time.monotonic() - t_gone)
                in_charge = (log_time(lines[-1]) - wall_gone) * 1000
        met = ms <= FAILOVER_TARGET_MS
        self.report(key, "%s: every partition with a live leader in the Metadata of brokers "
                    "%s %.0f ms after both were gone (per broker %s; new controller %s in "
                    "charge at +%s ms); target <= %d ms: %s" % (
                        desc, rest, ms,
                        ", ".join("%d: %.0f" % (b, (d - t_gone) * 1000)
                                  for b, d in sorted(done.items())),
                        new, "%.0f" % in_charge if in_charge is not None else "?",
                        FAILOVER_TARGET_MS, "met" if met else "NOT met"),
                    ms=round(ms), target_ms=FAILOVER_TARGET_MS, met=met, partitions=len(every),
                    led_by_victim=led, restarted_serving_s=round(t_up - t0, 2),
                    new_controller_in_charge_ms=round(in_charge) if in_charge is not None
                    else None,
                    per_broker_ms={b: round((d - t_gone) * 1000) for b, d in done.items()})

    # ------------------------------------------------------------ 7

    def m_idle(self):
        tck = os.sysconf("SC_CLK_TCK")
        maxmap = int(open("/proc/sys/vm/max_map_count").read())
        names = ["broker-%d" % b for b in sorted(self.live)] + \
                ["controller-%d" % c for c in self.controllers()]
        pids = {n: self.pid(n) for n in names}

        def cpu(pid):
            with open("/proc/%d/stat" % pid) as f:
                fs = f.read().rsplit(")", 1)[1].split()
            return int(fs[11]) + int(fs[12])  # utime, stime

        t0 = time.monotonic()
        c0 = {}
        for n, pid in pids.items():
            try:
                c0[n] = cpu(pid)
            except (OSError, TypeError):
                pass
        time.sleep(10)
        el = time.monotonic() - t0
        res = {}
        for n in c0:
            try:
                pct = (cpu(pids[n]) - c0[n]) / tck / el * 100
            except OSError:
                continue
            r = {"cpu_pct": round(pct, 1)}
            if n.startswith("broker"):
                try:
                    with open("/proc/%d/maps" % pids[n]) as f:
                        r["maps"] = sum(1 for _ in f)
                    r["fds"] = len(os.listdir("/proc/%d/fd" % pids[n]))
                    with open("/proc/%d/status" % pids[n]) as f:
                        for l in f:
                            if l.startswith("VmRSS:"):
                                r["rss_mb"] = round(int(l.split()[1]) / 1024)
                except OSError:
                    pass
            res[n] = r
        worst = max((r["cpu_pct"] for r in res.values()), default=None)
        met = worst is not None and worst <= IDLE_CPU_TARGET
        self.report(
            "idle",
            "idle over %.0f s (%% of one core): %s; target <= %.1f %%: %s" % (
                el, ", ".join("%s %.1f %%" % (n, r["cpu_pct"]) for n, r in res.items()),
                IDLE_CPU_TARGET, "met" if met else "NOT met"),
            target_pct=IDLE_CPU_TARGET, met=met, processes=res, max_map_count=maxmap)
        self.report(
            "maps",
            "memory maps per broker: %s of vm.max_map_count %d (open files: %s)" % (
                ", ".join("%s %s" % (n, r.get("maps", "?")) for n, r in res.items()
                          if n.startswith("broker")), maxmap,
                ", ".join("%s %s" % (n, r.get("fds", "?")) for n, r in res.items()
                          if n.startswith("broker"))),
            processes={n: {"maps": r.get("maps"), "fds": r.get("fds"), "rss_mb": r.get("rss_mb")}
                       for n, r in res.items() if n.startswith("broker")},
            max_map_count=maxmap)

    # ------------------------------------------------------------ logs

    def scan_logs(self):
        """WARN/ERROR lines and sanitizer reports in the daemons' logs."""
        found = {}
        if not os.path.isdir(self.c.dir):
            return found
        for fn in sorted(os.listdir(self.c.dir)):
            if not fn.endswith(".log") or fn.startswith("zookeeper"):
                continue
            with open(os.path.join(self.c.dir, fn), errors="replace") as f:
                text = f.read()
            kinds = {}
            for l in text.splitlines():
                parts = l.split(" ", 3)
                if len(parts) >= 4 and parts[1] in ("WARN", "ERROR"):
                    msg = re.sub(r"\d+", "N", parts[3])
                    kinds.setdefault((parts[1], msg), [0, l])[0] += 1
                elif "runtime error:" in l or "Sanitizer" in l:
                    kinds.setdefault(("SANITIZER", l), [0, l])[0] += 1
            if kinds:
                found[fn[:-4]] = [{"level": k[0], "count": v[0], "example": v[1]}
                                  for k, v in sorted(kinds.items(), key=lambda kv: -kv[1][0])]
        return found

    # ------------------------------------------------------------ run

    def step(self, name, fn, *a):
        out("== %s" % name)
        self.polls = None
        try:
            return fn(*a)
        except Exception as e:  # noqa: BLE001  (one measure failing is a figure too)
            self.report(name, "%s: failed: %s: %s" % (name, type(e).__name__, e), ms=None,
                        error=str(e))
            return None

    def restore(self):
        """Start again whatever is not running (a failure is noted and the
        run goes on without it)."""
        for kind, ids in (("broker", range(1, self.args.brokers + 1)),
                          ("controller", self.controllers())):
            for i in ids:
                pid = self.pid("%s-%d" % (kind, i))
                if kind == "broker" and i in self.live:
                    continue
                if kind == "controller" and pid is not None and \
                        os.path.exists("/proc/%d" % pid):
                    continue
                try:
                    self.kcluster("start", kind, i)
                except AssertionError as e:
                    msg = str(e).split("\n---", 1)[0].strip().splitlines()
                    tail = [l for l in self.log_lines("%s-%d" % (kind, i))[-200:]
                            if " ERROR " in l][-1:]
                    self.note("%s %d did not start again: %s%s" % (
                        kind, i, msg[-1] if msg else e,
                        ("; its last error: " + tail[0]) if tail else ""))

    def wanted(self, measure):
        return not self.args.only or measure in self.args.only.split(",")

    def run(self):
        a = self.args
        t_start = time.monotonic()
        try:
            out("cluster in %s: %d brokers, controllers 101 and 102" % (self.c.dir, a.brokers))
            nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            per = -(-a.partitions * self.rf // a.brokers)
            self.results["nofile_limit"] = nofile
            self.results["replicas_per_broker"] = per
            if nofile < per + 1000:
                # a log holds one descriptor per segment (indexes are
                # mapped, their descriptors closed)
                self.note("the open files limit (%d, inherited by the daemons) is "
                          "below %d replicas per broker + 1000: the brokers may "
                          "run out of file descriptors" % (nofile, per))
            self.c.up()
            self.zk = zk_client(self.c.zk_connect)
            if not self.step("create", self.m_create):
                raise SystemExit("no point going on without the partitions")

            nb = a.brokers
            if self.wanted("broker_failure"):
                self.step("broker_failure", self.m_broker_failure, nb)
                self.step("restart", self.restore)
                self.step("recovery", self.wait_recovered, "broker %d restarted" % nb)

            if self.wanted("controller_failover"):
                self.step("controller_failover", self.m_controller_failover)
                self.step("recovery", self.wait_recovered, "after the controller failover")
                victim = max(1, nb - 1)
                self.step("controller_and_broker_failure", self.m_controller_and_broker,
                          victim)
                self.step("restart", self.restore)
                self.step("recovery", self.wait_recovered,
                          "broker %d and the controller restarted" % victim)

            if self.wanted("controlled_shutdown"):
                self.step("controlled_shutdown", self.m_controlled_shutdown)
                self.step("restart", self.restore)
                self.step("recovery", self.wait_recovered, "the stopped broker restarted")

            if self.wanted("restart"):
                for how in ("SIGTERM", "SIGKILL"):
                    self.step("restart_" + how.lower(), self.m_restart, nb, how)
                    self.step("restart", self.restore)
                    self.step("recovery", self.wait_recovered,
                              "after the %s restart" % how)

            if self.wanted("recovering_failover"):
                victim = max(1, nb - 1)
                self.step("recovering_failover", self.m_recovering_failover, nb, victim)
                self.step("restart", self.restore)
                self.step("recovery", self.wait_recovered,
                          "broker %d and the controller restarted" % victim)

            if self.wanted("idle"):
                time.sleep(5)
                self.step("idle", self.m_idle)
        finally:
            for m in self.meta.values():
                m.close()
            if self.zk is not None:
                try:
                    self.zk.stop()
                    self.zk.close()
                except Exception:  # noqa: BLE001
                    pass
            try:
                self.c.kcluster("down")
            except Exception as e:  # noqa: BLE001
                out("kcluster down: %s" % str(e).splitlines()[0])
            logs = self.scan_logs()
            for name, kinds in logs.items():
                n = sum(k["count"] for k in kinds if "Too many open files" in k["example"])
                if n:
                    self.note("%s: %d+ log lines say \"Too many open files\"" % (name, n))
            self.results["daemon_log_warnings"] = logs
            if logs:
                out("== WARN/ERROR lines in the daemons' logs")
                for name, kinds in logs.items():
                    for k in kinds[:6]:
                        out("   %s: %d x %s" % (name, k["count"], k["example"][:220]))
                    if len(kinds) > 6:
                        out("   %s: ... and %d more kinds" % (name, len(kinds) - 6))
            if self.client_log:
                self.results["client_log_lines"] = len(self.client_log)
                out("   (librdkafka logged %d lines, e.g. %s)" % (
                    len(self.client_log), self.client_log[0][:200]))
            if a.keep:
                out("cluster directory kept: %s" % self.c.dir)
            else:
                shutil.rmtree(self.work, ignore_errors=True)
        self.results["total_s"] = round(time.monotonic() - t_start)
        out("\n== summary (%d s)" % self.results["total_s"])
        for l in self.lines:
            out(l)
        for n in self.notes:
            out("note: " + n)
        if a.json:
            print(json.dumps({"partitions": a.partitions, "topics": len(self.topics),
                              "brokers": a.brokers, "replication_factor": self.rf,
                              "results": self.results, "notes": self.notes},
                             indent=1, default=str))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--partitions", type=int, default=10000)
    ap.add_argument("--topics", type=int, default=1,
                    help="spread the partitions over this many topics (one request)")
    ap.add_argument("--brokers", type=int, default=3)
    ap.add_argument("--rate", type=int, default=10000,
                    help="producer messages/s during the controlled shutdown")
    ap.add_argument("--only", default="",
                    help="comma-separated measures after create: broker_failure, "
                    "controller_failover, controlled_shutdown, restart, "
                    "recovering_failover, idle (default: all)")
    ap.add_argument("--keep", action="store_true", help="keep the cluster directory")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a broker configuration key for every broker (repeatable), "
                    "e.g. max.incremental.fetch.session.cache.slots=0 for the idle "
                    "figure without KIP-227 fetch sessions")
    ap.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    args = ap.parse_args()
    if args.topics < 1 or args.partitions < args.topics or args.brokers < 2:
        ap.error("need --brokers >= 2 and --partitions >= --topics >= 1")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # the daemons inherit it: thousands of log segments
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    Bench(args).run()


if __name__ == "__main__":
    main()
