#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""kdump-log on a real broker's files: confluent-kafka produces keyed,
headed, uncompressed and lz4 records to a topic with 16 KiB segments and
an index entry every KiB; once the broker has stopped cleanly, the dump of
every segment gives back exactly what was produced (offsets 0..N-1 with
their keys, values and header keys), --verify passes on every segment and
index, --json says what the text says, and damaged copies (a flipped
payload byte, a moved index entry, a wrong time index timestamp, a torn
tail, random corruption) are reported, never crashed on.  Hand-made files
cover what our broker never writes: legacy magic 0/1 messages and offsets
at the edges of 64 bits."""

import glob
import gzip
import json
import os
import random
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from ktool import tool  # noqa: E402
from wire import batch, record  # noqa: E402
from wire import message as legacy  # noqa: E402  (magic 0/1)

TOPIC = "dumped"
PER_CODEC = 300
BASE_TS = 1700000000000
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")


def message(run, i):
    """(key, value, headers, timestamp) of message i of a run."""
    key = None if i % 4 == 0 else ("k%d" % (i % 17)).encode()
    value = ("%s-%d:" % (run, i)).encode() * (3 + i % 11)
    if i % 9 == 0:
        value += b"\x00\xff\\x41\n"  # escaped bytes, a literal backslash
    headers = [("h1", b"x"), ("trace", str(i).encode())] if i % 5 == 1 else []
    # not monotonic: the time index keeps the first batch to reach a max
    ts = BASE_TS + i * 10 - (500 if i % 37 == 0 else 0)
    return key, value, headers, ts


def produce(bootstrap, codec, run, produced):
    from confluent_kafka import Producer

    # small batches, so segments of 16 KiB hold many of them
    p = Producer({"bootstrap.servers": bootstrap, "compression.codec": codec,
                  "linger.ms": 5, "batch.num.messages": 20, "acks": "all"})
    errors = []
    # a delivery report carries no headers: find them by the (unique) value
    header_keys = {message(run, i)[1]: [h[0] for h in message(run, i)[2]]
                   for i in range(PER_CODEC)}

    def cb(err, msg):
        if err is not None:
            errors.append(err)
        else:
            produced[msg.offset()] = (msg.key(), msg.value(),
                                      header_keys[msg.value()], codec)

    for i in range(PER_CODEC):
        key, value, headers, ts = message(run, i)
        p.produce(TOPIC, key=key, value=value, headers=headers or None,
                  timestamp=ts, partition=0, on_delivery=cb)
    assert p.flush(60) == 0, "messages left unflushed"
    assert not errors, errors


def run(*args, expect=None):
    """kdump-log with args; (exit status, stdout, stderr).  Never a crash
    or a sanitizer report, whatever the input."""
    r = tool("kdump-log", *args, rc=None, timeout=60, text=False)
    out = r.stdout.decode("ascii")  # everything is escaped to ASCII
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode in (0, 1, 2), "kdump-log %s: status %d\n%s" % (
        " ".join(args), r.returncode, err)
    for m in SANITIZER_MARKS:
        assert m not in err, "kdump-log %s:\n%s" % (" ".join(args), err)
    if expect is not None:
        assert r.returncode == expect, "kdump-log %s: status %d, not %d\n%s" % (
            " ".join(args), r.returncode, expect, err)
    return r.returncode, out, err


def unescape(s):
    """kdump-log's escaping undone: \\xNN is a byte, the rest ASCII."""
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  s.encode("ascii"))


def fields(line):
    """A batch or index line, "name: value name: value ...", as a dict."""
    t = line.split(" ")
    assert len(t) % 2 == 0 and all(k.endswith(":") for k in t[0::2]), line
    return {k[:-1]: v for k, v in zip(t[0::2], t[1::2])}


RECORD = re.compile(r"^\| offset: (\d+) (\w+): (-?\d+) keySize: (-?\d+) "
                    r"valueSize: (-?\d+)(?: sequence: (-?\d+) "
                    r"headerKeys: \[(.*?)\])?(?: key: (.*?))?(?: payload: (.*))?$")


def parse_log_dump(out):
    """Batches (dicts) and records (dicts) of a text dump of one .log."""
    lines = out.splitlines()
    assert lines[0].startswith("Dumping "), lines[:2]
    assert lines[1].startswith("Starting offset: "), lines[:2]
    start = int(lines[1].split(": ")[1])
    batches, records = [], []
    for line in lines[2:]:
        if line.startswith("| "):
            m = RECORD.match(line)
            assert m, line
            records.append({
                "offset": int(m.group(1)), "timestamp": int(m.group(3)),
                "keySize": int(m.group(4)), "valueSize": int(m.group(5)),
                "headerKeys": m.group(7).split(",") if m.group(7) else [],
                "key": None if m.group(8) is None else unescape(m.group(8)),
                "payload": None if m.group(9) is None else unescape(m.group(9)),
                "batch": len(batches) - 1})
        else:
            batches.append(fields(line))
    return start, batches, records


def summary(err, path):
    m = re.search(r"^kdump-log: %s: (\d+) batches, (\d+) records, (\d+) errors"
                  % re.escape(path), err, re.M)
    assert m, err
    return tuple(int(x) for x in m.groups())


def index_entries(out, time):
    lines = out.splitlines()
    assert lines[0].startswith("Dumping "), lines[:1]
    ents = [fields(line) for line in lines[1:]]
    keys = ("timestamp", "offset") if time else ("offset", "position")
    return [tuple(int(e[k]) for k in keys) for e in ents]


def check_files(pdir, produced):
    logs = sorted(glob.glob(os.path.join(pdir, "*.log")))
    assert len(logs) >= 3, "expected several segments: %s" % os.listdir(pdir)
    n = len(produced)
    assert sorted(produced) == list(range(n)), "delivered offsets not 0..N-1"

    # every record, in offset order, across the segments
    seen = []
    text = {}
    for path in logs:
        rc, out, err = run("--print-data-log", path, expect=0)
        start, batches, records = parse_log_dump(out)
        base = int(os.path.basename(path).split(".")[0])
        assert start == base, (path, start)
        assert batches and int(batches[0]["baseOffset"]) == base, path
        count = 0
        for b in batches:
            assert b["magic"] == "2" and b["isvalid"] == "true", b
            assert int(b["lastOffset"]) - int(b["baseOffset"]) + 1 == int(b["count"]), b
            count += int(b["count"])
        for prev, b in zip(batches, batches[1:]):
            assert int(b["baseOffset"]) == int(prev["lastOffset"]) + 1, (prev, b)
            assert int(b["position"]) == int(prev["position"]) + int(prev["size"]), b
        assert int(batches[-1]["position"]) + int(batches[-1]["size"]) == \
            os.path.getsize(path), path
        assert summary(err, path) == (len(batches), count, 0), err
        assert len(records) == count, path
        for r in records:
            key, value, hkeys, codec = produced[r["offset"]]
            b = batches[r["batch"]]
            # librdkafka sends a batch uncompressed when lz4 would not
            # make it smaller (a batch of one short record)
            assert b["compresscodec"] in (codec, "none"), (b, codec)
            assert int(b["baseOffset"]) <= r["offset"] <= int(b["lastOffset"])
            assert r["key"] == key and r["payload"] == value, (r, key, value)
            assert r["keySize"] == (-1 if key is None else len(key)), r
            assert r["valueSize"] == len(value), r
            assert r["headerKeys"] == hkeys, (r, hkeys)
        seen += [r["offset"] for r in records]
        text[path] = (batches, records)
    assert seen == list(range(n)), "offsets are not 0..%d" % (n - 1)
    codecs = [b["compresscodec"] for p in logs for b in text[p][0]]
    assert codecs.count("lz4") >= 5 and codecs.count("none") >= 5, codecs

    # --verify: every segment and index, one run per kind and all at once
    idx = sorted(glob.glob(os.path.join(pdir, "*.index")))
    tidx = sorted(glob.glob(os.path.join(pdir, "*.timeindex")))
    assert len(idx) == len(logs) and len(tidx) == len(logs)
    rc, out, err = run("--verify", *(logs + idx + tidx), expect=0)
    assert len(re.findall(r" 0 errors$", err, re.M)) == 3 * len(logs), err
    assert "position" not in err, err
    entries = 0
    for path in idx:
        rc, out, err = run(path, expect=0)
        entries += len(index_entries(out, False))
    assert entries >= len(logs), "too few index entries: %d" % entries
    for path in tidx:
        rc, out, err = run(path, expect=0)
        assert index_entries(out, True), path  # closed: at least the last

    # --json says what the text says
    rc, out, err = run("--json", "--deep-iteration", "--files",
                       ",".join(logs + idx[:1]), expect=0)
    doc = json.loads(out)
    assert doc["errors"] == 0 and len(doc["files"]) == len(logs) + 1, doc.keys()
    for f in doc["files"][:-1]:
        batches, records = text[f["file"]]
        assert f["type"] == "log" and f["problems"] == [], f["file"]
        assert f["summary"]["batches"] == len(batches)
        assert f["summary"]["records"] == len(records)
        assert f["summary"]["bytesRead"] == os.path.getsize(f["file"])
        for jb, tb in zip(f["batches"], batches):
            for k in ("baseOffset", "lastOffset", "count", "position", "size",
                      "crc", "partitionLeaderEpoch", "producerId"):
                assert str(jb[k]) == tb[k], (k, jb, tb)
            assert jb["isvalid"] is True and jb["compresscodec"] == tb["compresscodec"]
            assert str(jb["maxTimestamp"]) == tb["CreateTime"], (jb, tb)
        jrecs = [r for b in f["batches"] for r in b["records"]]
        assert [r["offset"] for r in jrecs] == [r["offset"] for r in records]
        assert [r["headerKeys"] for r in jrecs] == [r["headerKeys"] for r in records]
    fi = doc["files"][-1]
    rc, out, err = run(idx[0], expect=0)
    assert fi["type"] == "index" and [(e["offset"], e["position"]) for e in
                                      fi["entries"]] == index_entries(out, False)
    return logs, idx, tidx, text


def damage(pdir, logs, idx, tidx, text, produced, wd):
    # a flipped byte in an uncompressed record's value: that batch's CRC
    plain_log = next(p for p in logs if any(b["compresscodec"] == "none"
                                            for b in text[p][0]))
    batches, records = text[plain_log]
    rec = next(r for r in records if batches[r["batch"]]["compresscodec"] == "none")
    value = produced[rec["offset"]][1]
    d = os.path.join(wd, "crc")
    os.makedirs(d)
    bad = os.path.join(d, os.path.basename(plain_log))
    shutil.copy(plain_log, bad)
    with open(bad, "r+b") as f:
        data = bytearray(f.read())
        at = data.index(value) + len(value) // 2
        data[at] ^= 0x20
        f.seek(0)
        f.write(data)
    hit = next(b for b in batches
               if int(b["position"]) <= at < int(b["position"]) + int(b["size"]))
    rc, out, err = run("--verify", bad, expect=1)
    assert re.search(r"position %s: CRC mismatch" % hit["position"], err), err
    assert summary(err, bad)[2] == 1, err
    rc, out, err = run(bad, expect=1)  # corrupt while dumping, too
    assert "isvalid: false" in out and out.count("isvalid: false") == 1, out

    # an index entry moved off its batch's start, and one naming the wrong
    # offset; a time index entry with another timestamp
    ipath = next(p for p in idx if os.path.getsize(p) >= 16)
    base = os.path.basename(ipath)[:-len(".index")]
    d = os.path.join(wd, "index")
    os.makedirs(d)
    for ext in (".log", ".index", ".timeindex"):
        shutil.copy(os.path.join(pdir, base + ext), d)
    copy = os.path.join(d, base + ".index")
    tcopy = os.path.join(d, base + ".timeindex")
    run("--verify", copy, tcopy, expect=0)
    with open(copy, "r+b") as f:
        e = bytearray(f.read(16))
        pos = int.from_bytes(e[12:16], "big")
        f.seek(12)
        f.write((pos + 1).to_bytes(4, "big"))
    rc, out, err = run("--verify", copy, expect=1)
    assert re.search(r"position 8: entry 1 .*not the start of a batch", err), err
    with open(copy, "r+b") as f:
        f.seek(12)
        f.write(pos.to_bytes(4, "big"))
        rel = int.from_bytes(e[0:4], "big")
        f.seek(0)
        f.write((rel - 1).to_bytes(4, "big"))
    rc, out, err = run("--verify", copy, expect=1)
    assert re.search(r"position 0: entry 0 .*has last offset", err), err
    with open(tcopy, "r+b") as f:
        ts = int.from_bytes(f.read(8), "big")
        f.seek(0)
        f.write((ts + 1).to_bytes(8, "big"))
    rc, out, err = run("--verify", tcopy, expect=1)
    assert re.search(r"position 0: entry 0 .*maxTimestamp", err), err
    rc, out, err = run(tcopy, expect=0)  # only --verify looks at the log

    # torn tails: inside the last batch, and after less than a length
    last = int(batches[-1]["position"])
    for keep in (os.path.getsize(plain_log) - 7, last + 5):
        d = os.path.join(wd, "torn-%d" % keep)
        os.makedirs(d)
        torn = os.path.join(d, os.path.basename(plain_log))
        shutil.copy(plain_log, torn)
        os.truncate(torn, keep)
        rc, out, err = run("--print-data-log", torn, expect=1)
        assert re.search(r"position %d: torn batch at the end" % last, err), err
        assert summary(err, torn)[:2] == (len(batches) - 1,
                                          len(records) - int(batches[-1]["count"]))
        assert out.count("baseOffset:") == len(batches) - 1
    empty = os.path.join(wd, "00000000000000000000.log")
    open(empty, "wb").close()
    rc, out, err = run("--verify", empty, expect=0)
    assert summary(err, empty) == (0, 0, 0)

    # --max-bytes stops before the first batch it would cut
    assert len(batches) >= 4, batches
    cut = int(batches[3]["position"]) + 1  # a byte of the fourth batch
    rc, out, err = run("--max-bytes", str(cut), plain_log, expect=0)
    assert out.count("baseOffset:") == 3 and "--max-bytes" in err, err

    # not segment files: skipped; missing ones and bad usage: 2
    rc, out, err = run(os.path.join(pdir, "leader-epoch-checkpoint"), expect=0)
    assert "skipped" in err, err
    run(os.path.join(wd, "missing.log"), expect=2)
    run("--no-such-option", plain_log, expect=2)
    run(expect=2)

    # random damage, random cuts: reported, never crashed on
    rnd = random.Random(9)
    src = open(plain_log, "rb").read()
    d = os.path.join(wd, "fuzz")
    os.makedirs(d)
    for ext in (".index", ".timeindex"):
        shutil.copy(plain_log[:-4] + ext, d)
    fz = os.path.join(d, os.path.basename(plain_log))
    for i in range(40):
        data = bytearray(src)
        for _ in range(rnd.randint(1, 8)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        if i % 3 == 0:
            del data[rnd.randrange(len(data)):]
        with open(fz, "wb") as f:
            f.write(data)
        run("--verify", "--print-data-log", fz, fz[:-4] + ".index",
            fz[:-4] + ".timeindex")
        run("--json", "--verify", "--print-data-log", fz)


# ---- files no broker of ours writes, built by hand (tests/lib/wire.py)

def crafted(wd):
    """Legacy magic 0 and 1 messages (one a gzip wrapper with relative
    inner offsets, as Kafka 0.10 wrote them) before a v2 batch; then
    offsets and timestamps at the edges of 64 bits."""
    d = os.path.join(wd, "crafted")
    os.makedirs(d)
    inner = b"".join(legacy(i, 1, b"ik%d" % i, b"inner-%d" % i, 1000 + i)
                     for i in range(3))
    path = os.path.join(d, "%020d.log" % 0)
    with open(path, "wb") as f:
        f.write(legacy(0, 0, None, b"zero") + legacy(1, 0, b"k1", b"one\x01") +
                legacy(2, 1, b"k2", b"two", 999) +
                legacy(5, 1, None, gzip.compress(inner), 1002, attrs=1) +
                batch([record(0, 0, b"k", b"v6"),
                       record(1, 5, None, b"v7", [(b"h", b"1")])], 2000, 2005,
                      base=6))
    rc, out, err = run("--verify", "--print-data-log", path, expect=0)
    start, batches, records = parse_log_dump(out)
    assert [b["magic"] for b in batches] == ["0", "0", "1", "1", "2"], out
    assert batches[3]["offset"] == "5" and batches[3]["compresscodec"] == "gzip"
    assert batches[0]["NoTimestampType"] == "-1" and batches[2]["CreateTime"] == "999"
    assert [r["offset"] for r in records] == list(range(8)), out
    assert [r["payload"] for r in records] == [
        b"zero", b"one\x01", b"two", b"inner-0", b"inner-1", b"inner-2", b"v6",
        b"v7"], out
    assert [r["key"] for r in records][:4] == [None, b"k1", b"k2", b"ik0"]
    assert records[7]["headerKeys"] == ["h"] and records[7]["timestamp"] == 2005
    assert summary(err, path) == (5, 8, 0), err

    big = (1 << 63) - 1
    path = os.path.join(d, "%020d.log" % 7)
    with open(path, "wb") as f:
        f.write(batch([record(0, 0, b"a", b"b"), record(1, 10, b"a", b"c"),
                       record(5, big, None, b"d")], big, big, base=big - 1) +
                batch([record(-5, -big, b"x", b"y")], -big - 1, 0, base=-big - 1,
                      last_delta=-3) +
                legacy(big, 1, None, gzip.compress(
                    legacy(-(1 << 62), 1, b"a", b"b", 1) +
                    legacy(1 << 62, 1, b"a", b"b", 1)), 5, attrs=1))
    rc, out, err = run("--print-data-log", path, expect=1)
    assert "compressed messages are out of range" in err, err
    rc, out, err = run("--verify", "--print-data-log", path, expect=1)
    assert "lastOffsetDelta 2 overflows" in err, err
    assert "lastOffsetDelta -3 is negative" in err, err
    assert re.search(r"position 0: record offset -\d+ is outside", err), err


def check_help_and_man():
    """Every long option of --help is in the man page, and back."""
    rc, out, err = run("--help", expect=0)
    helped = set(re.findall(r"(?<![\w-])--([a-z][a-z-]*)", out))
    man = os.path.join(os.environ.get("top_srcdir", "."), "man", "man1",
                       "kdump-log.1")
    with open(man) as f:
        text = f.read()
    documented = set(re.findall(r"^\.BI? \\-\\-([a-z\\-]+)", text, re.M))
    documented = {o.replace("\\-", "-") for o in documented}
    assert helped == documented, (helped, documented)
    rc, out, err = run("--version", expect=0)
    assert out.startswith("kdump-log "), out


def main():
    from confluent_kafka.admin import AdminClient, NewTopic

    check_help_and_man()
    produced = {}
    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd:
        with Cluster(wd, brokers=1, controllers=1) as c:
            admin = AdminClient({"bootstrap.servers": c.bootstrap})
            for f in admin.create_topics([NewTopic(TOPIC, 1, 1, config={
                    "segment.bytes": "16384",
                    "index.interval.bytes": "1024"})],
                    operation_timeout=60).values():
                f.result()
            del admin
            produce(c.bootstrap, "none", "plain", produced)
            produce(c.bootstrap, "lz4", "lz4", produced)
            # a clean stop: indexes trimmed, the last time entries written
            c.stop("broker", 1)
            pdir = os.path.join(c.dir, "broker-1-data", TOPIC + "-0")
            assert os.path.isdir(pdir), os.listdir(c.dir)
            logs, idx, tidx, text = check_files(pdir, produced)
            damage(pdir, logs, idx, tidx, text, produced, wd)
        crafted(wd)
    print("ok")


if __name__ == "__main__":
    main()
