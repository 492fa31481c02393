#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Client quotas as Kafka 2.8 (KIP-13, KIP-55, KIP-124, KIP-219, KIP-546)
on a real 1-broker kcluster with real clients:

- kconfigs --alter/--describe of users, clients, users+clients and the
  <default> entities writes Kafka's znodes (/config/<type>/<name> as
  {"version":1,"config":{...}} and a config_change_ notification naming
  the entity path) and reads them back through DescribeClientQuotas;
  AlterClientQuotas and DescribeClientQuotas on a plain socket give
  Kafka's validation (unknown key, a non-integral byte rate, an empty or
  unknown entity type, duplicate filter components, a bad match type,
  validate_only writes nothing, strict and non-strict filters);
- a producer_byte_rate of 1 MB/s on one client id holds a confluent-kafka
  producer to within 10 % of it over 22 s (measured after the quota
  window has filled, over two of the 11 s cycles Kafka's Rate gives),
  its statistics (stats_cb, the broker's "throttle"
  window) show throttle times, the broker's metrics show the entity's
  byte rate and throttle time, and a producer with another client id
  beside it is never throttled and goes well above the quota; the quota
  lowered mid-run (no restart) brings the rate down to the new value;
- users/<user>/clients/<client-id> outranks clients/<client-id> for a
  real client (the user of a plaintext connection is ANONYMOUS);
- the same for consumer_byte_rate on a consumer (an unthrottled consumer
  reading the same topic meanwhile), and request_percentage on a
  producer of tiny batches (its handling time, as the broker measures it,
  held near the quota; another client id unaffected).
"""

import json
import os
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402
from kwire import Wire  # noqa: E402

from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

MB = 1048576
WARMUP = 13.0       # quota.window.num (11) x 1 s, and some
# Kafka's Rate over 11 samples of 1 s lets a throttled client through in
# a cycle of about 11 s (a burst when the oldest sample expires, then
# muted): the rate is measured over two whole cycles, 22 s
MEASURE = 22.0
INVALID_REQUEST = 42


def kconfigs(c, *args, rc=0):
    return tool("kconfigs", "--bootstrap-server", c.bootstrap, *args, rc=rc,
                timeout=60)


def znode(zk, path):
    return json.loads(zk.get(path)[0])


def last_change(zk):
    kids = sorted(zk.get_children("/config/changes"))
    return json.loads(zk.get("/config/changes/" + kids[-1])[0])


def scrape(c):
    with urllib.request.urlopen(c.metrics[("broker", 1)], timeout=30) as r:
        return r.read().decode()


def metric(c, name, client_id, user=""):
    """A quota sensor's value, or None while it is not there."""
    want = '%s{user="%s",client_id="%s"} ' % (name, user, client_id)
    for line in scrape(c).splitlines():
        if line.startswith(want):
            return float(line.split()[-1])
    return None


# --------------------------------------------------------------- admin


def check_kconfigs(c, zk):
    kconfigs(c, "--alter", "--entity-type", "users", "--entity-name", "alice",
             "--add-config", "producer_byte_rate=1048576,request_percentage=50")
    assert znode(zk, "/config/users/alice") == {
        "version": 1, "config": {"producer_byte_rate": "1048576",
                                 "request_percentage": "50.0"}}
    assert last_change(zk) == {"version": 2, "entity_path": "users/alice"}
    kconfigs(c, "--alter", "--entity-type", "users", "--entity-name", "alice",
             "--entity-type", "clients", "--entity-name", "app-1",
             "--add-config", "consumer_byte_rate=2000")
    assert znode(zk, "/config/users/alice/clients/app-1")["config"] == {
        "consumer_byte_rate": "2000"}
    assert last_change(zk) == {"version": 2,
                               "entity_path": "users/alice/clients/app-1"}
    kconfigs(c, "--alter", "--entity-type", "clients", "--entity-default",
             "--add-config", "consumer_byte_rate=1000000000")
    assert znode(zk, "/config/clients/<default>")["config"] == {
        "consumer_byte_rate": "1000000000"}
    out = kconfigs(c, "--describe", "--entity-type", "users",
                   "--entity-name", "alice").stdout
    assert "Quota configs for user-principal 'alice' are " \
        "producer_byte_rate=1048576.0, request_percentage=50.0" in out or \
        "Quota configs for user-principal 'alice' are " \
        "request_percentage=50.0, producer_byte_rate=1048576.0" in out, out
    assert "app-1" not in out, out      # strict: the user alone
    out = kconfigs(c, "--describe", "--entity-type", "users", "--entity-name", "alice",
                   "--entity-type", "clients", "--entity-name", "app-1").stdout
    assert out.strip() == "Quota configs for user-principal 'alice', client-id " \
        "'app-1' are consumer_byte_rate=2000.0", out
    rows = json.loads(kconfigs(c, "--describe", "--entity-type", "clients",
                               "--json").stdout)
    assert {"user": None, "client_id": "<default>",
            "configs": {"consumer_byte_rate": 1e9}} in rows, rows
    # delete: the key goes, the node stays (as Kafka)
    kconfigs(c, "--alter", "--entity-type", "clients", "--entity-default",
             "--delete-config", "consumer_byte_rate")
    assert znode(zk, "/config/clients/<default>")["config"] == {}
    rows = json.loads(kconfigs(c, "--describe", "--entity-type", "clients",
                               "--json").stdout)
    assert rows == [], rows
    # refusals: an unknown key (the broker's error), a bad number (ours)
    r = kconfigs(c, "--alter", "--entity-type", "clients", "--entity-name", "x",
                 "--add-config", "producer_byte_rate=1.5", rc=1)
    assert "must be a LONG value" in r.stderr, r.stderr
    kconfigs(c, "--alter", "--entity-type", "clients", "--entity-name", "x",
             "--add-config", "producer_byte_rate=fast", rc=2)
    kconfigs(c, "--alter", "--entity-type", "clients", "--entity-name", "x",
             "--add-config", "no_such_quota=1", rc=2)
    # SCRAM credentials of users still work beside quotas
    kconfigs(c, "--alter", "--entity-type", "users", "--entity-name", "alice",
             "--add-config", "SCRAM-SHA-256=[iterations=4096,password=pw]")
    cfg = znode(zk, "/config/users/alice")["config"]
    assert cfg["producer_byte_rate"] == "1048576" and "SCRAM-SHA-256" in cfg, cfg
    out = kconfigs(c, "--describe", "--entity-type", "users",
                   "--entity-name", "alice").stdout
    assert "SCRAM-SHA-256=iterations=4096" in out and "producer_byte_rate" in out, out


def check_wire(c, zk):
    w = Wire(c.broker_port(1))
    ent = [{"entity_type": "client-id", "entity_name": "wire-c"}]

    def alter(entries, validate_only=False, v=1):
        return w.call(49, v, {"entries": entries, "validate_only": validate_only})

    nchanges = len(zk.get_children("/config/changes"))
    r = alter([{"entity": ent, "ops": [{"key": "consumer_byte_rate", "value": 5000.0,
                                        "remove": False}]}], validate_only=True)
    assert r["entries"][0]["error_code"] == 0, r
    assert not zk.exists("/config/clients/wire-c")
    assert len(zk.get_children("/config/changes")) == nchanges
    bad = [
        {"entity": ent, "ops": [{"key": "nope", "value": 1.0, "remove": False}]},
        {"entity": ent, "ops": [{"key": "producer_byte_rate", "value": 2.5,
                                 "remove": False}]},
        {"entity": [], "ops": []},
        {"entity": [{"entity_type": "group", "entity_name": "g"}], "ops": []},
        {"entity": [{"entity_type": "user", "entity_name": ""}], "ops": []},
    ]
    r = alter(bad, v=0)
    assert [e["error_code"] for e in r["entries"]] == [INVALID_REQUEST] * 5, r
    assert "Invalid configuration key nope" in r["entries"][0]["error_message"]
    assert not zk.exists("/config/clients/wire-c")
    r = alter([{"entity": ent, "ops": [{"key": "request_percentage", "value": 12.5,
                                        "remove": False}]}])
    assert r["entries"][0]["error_code"] == 0, r
    assert znode(zk, "/config/clients/wire-c")["config"] == {"request_percentage": "12.5"}

    def describe(components, strict, v=1):
        return w.call(48, v, {"components": components, "strict": strict})

    r = describe([{"entity_type": "client-id", "match_type": 0, "match": "wire-c"}], True)
    assert r["error_code"] == 0 and r["entries"] == [
        {"entity": [{"entity_type": "client-id", "entity_name": "wire-c"}],
         "values": [{"key": "request_percentage", "value": 12.5}]}], r
    # not strict: users' clients match a client filter too
    r = describe([{"entity_type": "client-id", "match_type": 0, "match": "app-1"}],
                 False, v=0)
    assert [sorted((e["entity_type"], e["entity_name"]) for e in x["entity"])
            for x in r["entries"]] == [[("client-id", "app-1"), ("user", "alice")]], r
    r = describe([{"entity_type": "client-id", "match_type": 0, "match": "app-1"}], True)
    assert r["entries"] == [], r
    # default and "any specified" matches
    r = describe([{"entity_type": "user", "match_type": 2, "match": None}], True)
    assert [x["entity"] for x in r["entries"]] == [
        [{"entity_type": "user", "entity_name": "alice"}]], r
    for comps, err in (
            ([{"entity_type": "user", "match_type": 2, "match": None}] * 2, INVALID_REQUEST),
            ([{"entity_type": "", "match_type": 2, "match": None}], INVALID_REQUEST),
            ([{"entity_type": "user", "match_type": 7, "match": None}], INVALID_REQUEST),
            ([{"entity_type": "group", "match_type": 2, "match": None}], 35)):
        r = describe(comps, False)
        assert r["error_code"] == err and r["entries"] is None, (comps, r)
    w.close()


# ------------------------------------------------------------ throttling


class Stats:
    """librdkafka's statistics of one client: the last throttle window
    (max, cnt) of the broker and the bytes it sent/received."""

    def __init__(self):
        self.throttle_max = 0
        self.throttle_cnt = 0
        self.tx = self.rx = 0

    def cb(self, s):
        d = json.loads(s)
        for b in d.get("brokers", {}).values():
            if b.get("nodeid", -1) < 0:
                continue
            t = b.get("throttle", {})
            self.throttle_max = max(self.throttle_max, t.get("max", 0))
            self.throttle_cnt += t.get("cnt", 0)
        self.tx = d.get("tx_bytes", 0)
        self.rx = d.get("rx_bytes", 0)


class Flood(threading.Thread):
    """A producer sending value_size records as fast as it is let, or at
    most max_rate value bytes a second (an unthrottled client would
    otherwise fill the disk: hundreds of MB/s)."""

    def __init__(self, c, topic, client_id, value_size=10000, extra=None,
                 max_rate=None):
        super().__init__(daemon=True)
        self.max_rate = max_rate
        self.stats = Stats()
        conf = {"bootstrap.servers": c.bootstrap, "client.id": client_id,
                "linger.ms": 5, "statistics.interval.ms": 500,
                "queue.buffering.max.kbytes": 4096,
                "stats_cb": self.stats.cb}
        conf.update(extra or {})
        self.p = Producer(conf)
        self.topic = topic
        self.value = b"v" * value_size
        self.acked = 0          # value bytes delivered
        self.acked_n = 0
        self.errors = 0
        self.stop = False

    def run(self):
        def cb(err, msg):
            if err is None:
                self.acked += len(msg.value())
                self.acked_n += 1
            else:
                self.errors += 1
        t0, sent = time.monotonic(), 0
        while not self.stop:
            if self.max_rate and sent > self.max_rate * (time.monotonic() - t0):
                self.p.poll(0.01)
                continue
            try:
                self.p.produce(self.topic, self.value, callback=cb)
                sent += len(self.value)
            except BufferError:
                self.p.poll(0.05)
            self.p.poll(0)
        self.p.flush(60)

    def rate(self, seconds, count=False):
        """Delivered bytes (or records) per second over the next seconds."""
        a0, t0 = (self.acked_n if count else self.acked), time.monotonic()
        time.sleep(seconds)
        a1, t1 = (self.acked_n if count else self.acked), time.monotonic()
        return (a1 - a0) / (t1 - t0)

    def finish(self):
        self.stop = True
        self.join(120)
        assert not self.is_alive()
        assert self.errors == 0, self.errors


def near(rate, want, tol=0.10):
    return abs(rate - want) <= tol * want


def check_producer_quota(c, zk):
    kconfigs(c, "--alter", "--entity-type", "clients", "--entity-name", "slow-p",
             "--add-config", "producer_byte_rate=%d" % MB)
    # batches of 64 KB: Kafka's Rate lets 1 MB requests overshoot a 22 s
    # span by up to ~15 % before settling; small ones hold it within ~1 %
    slow = Flood(c, "qp", "slow-p", extra={"batch.size": 65536})
    fast = Flood(c, "qp2", "fast-p", max_rate=8 * MB)
    slow.start()
    fast.start()
    try:
        time.sleep(WARMUP)
        fast_rate = [0.0]
        t = threading.Thread(target=lambda: fast_rate.__setitem__(0, fast.rate(MEASURE)))
        t.start()
        rate = slow.rate(MEASURE)
        t.join()
        print("producer: throttled %.0f B/s (quota %d), unthrottled %.0f B/s"
              % (rate, MB, fast_rate[0]))
        # the quota counts whole requests; record values are ~99 % of them
        assert near(rate, MB * 0.99), rate
        assert fast_rate[0] > 2 * MB, fast_rate
        assert slow.stats.throttle_max > 0 and slow.stats.throttle_cnt > 0
        assert fast.stats.throttle_max == 0, fast.stats.throttle_max
        assert metric(c, "kafka_server_produce_throttle_time", "slow-p") > 0
        assert near(metric(c, "kafka_server_produce_byte_rate", "slow-p"), MB, 0.15)
        # in flight: half the quota, no restart
        kconfigs(c, "--alter", "--entity-type", "clients", "--entity-name", "slow-p",
                 "--add-config", "producer_byte_rate=%d" % (MB // 2))
        # two windows: the change first mutes the client for about one
        # window (its rate was twice the new bound), then it settles
        time.sleep(2 * WARMUP)
        rate = slow.rate(MEASURE)
        print("producer: lowered to %d: %.0f B/s" % (MB // 2, rate))
        assert near(rate, MB // 2 * 0.99), rate
    finally:
        slow.finish()
        fast.finish()


def check_user_client_quota(c, zk):
    """A user's client id (users/ANONYMOUS/clients/u-c: the user of a
    plaintext connection is ANONYMOUS) outranks the client-id quota."""
    kconfigs(c, "--alter", "--entity-type", "clients", "--entity-name", "u-c",
             "--add-config", "producer_byte_rate=%d" % (100 * MB))
    kconfigs(c, "--alter", "--entity-type", "users", "--entity-name", "ANONYMOUS",
             "--entity-type", "clients", "--entity-name", "u-c",
             "--add-config", "producer_byte_rate=%d" % (MB // 4))
    p = Flood(c, "qp", "u-c", extra={"batch.size": 65536})
    p.start()
    try:
        wait_for(lambda: p.stats.throttle_max > 0, timeout=60,
                 what="the user/client quota throttling u-c")
        wait_for(lambda: (metric(c, "kafka_server_produce_throttle_time", "u-c",
                                 user="ANONYMOUS") or 0) > 0, timeout=30,
                 what="the (ANONYMOUS, u-c) sensor")
    finally:
        p.finish()


def check_consumer_quota(c, zk):
    # enough data for warm-up + measure at 1 MB/s, with the first window
    total = int((WARMUP + MEASURE + 15) * MB)
    fill = Flood(c, "qc", "filler", value_size=10000)
    fill.start()
    wait_for(lambda: fill.acked >= total, timeout=600, what="the topic filled")
    fill.finish()
    kconfigs(c, "--alter", "--entity-type", "clients", "--entity-name", "slow-c",
             "--add-config", "consumer_byte_rate=%d" % MB)

    class Reader(threading.Thread):
        def __init__(self, client_id):
            super().__init__(daemon=True)
            self.stats = Stats()
            self.c = Consumer({"bootstrap.servers": c.bootstrap, "client.id": client_id,
                               "group.id": "g-" + client_id,
                               "auto.offset.reset": "earliest",
                               "statistics.interval.ms": 500,
                               "fetch.max.bytes": 65536,
                               "message.max.bytes": 65536,
                               "max.partition.fetch.bytes": 65536,
                               "stats_cb": self.stats.cb})
            self.c.subscribe(["qc"])
            self.got = 0
            self.stop = False

        def run(self):
            while not self.stop:
                m = self.c.poll(0.2)
                if m is not None and m.error() is None:
                    self.got += len(m.value())
            self.c.close()

        def rate(self, seconds):
            g0, t0 = self.got, time.monotonic()
            time.sleep(seconds)
            return (self.got - g0) / (time.monotonic() - t0)

    slow, fast = Reader("slow-c"), Reader("fast-c")
    slow.start()
    fast.start()
    try:
        time.sleep(WARMUP)
        rate = slow.rate(MEASURE)
        print("consumer: throttled %.0f B/s (quota %d), unthrottled got %d of %d"
              % (rate, MB, fast.got, fill.acked))
        assert near(rate, MB * 0.99), rate
        assert slow.stats.throttle_max > 0
        assert fast.stats.throttle_max == 0, fast.stats.throttle_max
        wait_for(lambda: fast.got >= fill.acked, timeout=120,
                 what="the unthrottled consumer read everything")
        assert metric(c, "kafka_server_fetch_throttle_time", "slow-c") > 0
    finally:
        slow.stop = fast.stop = True
        slow.join(60)
        fast.join(60)


def check_request_quota(c, zk):
    pct = 2.0
    kconfigs(c, "--alter", "--entity-type", "clients", "--entity-name", "busy-p",
             "--add-config", "request_percentage=%g" % pct)
    tiny = {"linger.ms": 0, "batch.num.messages": 1, "acks": 1}
    slow = Flood(c, "qr", "busy-p", value_size=10, extra=tiny)
    fast = Flood(c, "qr", "free-p", value_size=10, extra=tiny)
    slow.start()
    fast.start()
    try:
        wait_for(lambda: slow.stats.throttle_max > 0, timeout=60,
                 what="a request-quota throttle")
        time.sleep(WARMUP)
        fast_n = [0.0]
        t = threading.Thread(target=lambda: fast_n.__setitem__(0, fast.rate(10, True)))
        t.start()
        slow_n = slow.rate(10, True)
        t.join()
        # the broker's own measure, sampled over one 11 s cycle: Kafka
        # caps a request-quota throttle at one window (1 s), so the rate
        # swings above the quota after each burst; its mean stays near it
        used = []
        for _ in range(11):
            time.sleep(1)
            used.append(metric(c, "kafka_server_request_request_time", "busy-p"))
        mean = sum(used) / len(used)
        print("request quota %g%%: measured %s (mean %.2f); records/s %.0f "
              "throttled, %.0f not" % (pct, used, mean, slow_n, fast_n[0]))
        assert 0.5 * pct <= mean <= 1.4 * pct, used
        assert fast.stats.throttle_max == 0
        assert fast_n[0] > 2 * slow_n, (fast_n, slow_n)
        assert metric(c, "kafka_server_request_throttle_time", "busy-p") > 0
    finally:
        slow.finish()
        fast.finish()


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=1, controllers=1) as c:
            zk = c.zk()
            admin = AdminClient({"bootstrap.servers": c.bootstrap})
            fs = admin.create_topics([NewTopic(t, 1, 1) for t in ("qp", "qp2", "qc", "qr")])
            for f in fs.values():
                f.result(60)
            run_steps((check_kconfigs, check_wire, check_producer_quota,
                       check_user_client_quota, check_consumer_quota,
                       check_request_quota), c, zk)


if __name__ == "__main__":
    main()
