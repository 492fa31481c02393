# SPDX-License-Identifier: Apache-2.0
"""Record data by hand, for tests that must send or store what no client
library would: v2 record batches with any header (timestamps, offsets,
deltas, attributes), magic 0/1 messages with any CRC, and the Produce and
Fetch calls that carry them.  The protocol itself is kwire's.

    b = batch([record(0, 0, b"k", b"v")], base_ts=-1, max_ts=0)
    p = produce(port, 7, "t", 0, b)
    p["error_code"], p["base_offset"]

Every reader checks lengths (struct raises on short input), so a wrong
answer fails the test rather than hanging it.
"""

import contextlib
import struct
import zlib

import kwire
from kwire import crc32c, varint  # noqa: F401  (the record primitives)


# ------------------------------------------------- v2 records and batches

def nullable(b):
    return varint(-1) if b is None else varint(len(b)) + b


def record(odelta, tdelta, key, value, headers=()):
    body = (b"\0" + varint(tdelta) + varint(odelta) + nullable(key) +
            nullable(value) + varint(len(headers)) +
            b"".join(varint(len(k)) + k + nullable(v) for k, v in headers))
    return varint(len(body)) + body


def batch(recs, base_ts, max_ts, base=0, attributes=0, last_delta=None,
          producer=(-1, -1, -1)):
    """A v2 record batch (magic 2) with the header timestamps given;
    producer: (producer id, epoch, base sequence)."""
    pid, epoch, seq = producer
    tail = struct.pack(">hiqqqhii", attributes,
                       len(recs) - 1 if last_delta is None else last_delta,
                       base_ts, max_ts, pid, epoch, seq, len(recs)) + b"".join(recs)
    return struct.pack(">qiibI", base, 9 + len(tail), 0, 2, crc32c(tail)) + tail


# -------------------------------------------------- magic 0/1 message sets

def bytes_field(b):
    return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b


def message(offset, magic, key, value, ts=-1, attrs=0, crc_delta=0):
    """One magic 0 or 1 message with its offset and size (ts: magic 1
    only); crc_delta spoils its CRC-32."""
    body = struct.pack(">bb", magic, attrs)
    if magic == 1:
        body += struct.pack(">q", ts)
    body += bytes_field(key) + bytes_field(value)
    m = struct.pack(">I", (zlib.crc32(body) + crc_delta) & 0xffffffff) + body
    return struct.pack(">qi", offset, len(m)) + m


def parse_set(data):
    """Top-level magic 0/1 messages: (offset, magic, attrs, ts, key, value),
    a partial last one left out."""
    out, pos = [], 0
    while len(data) - pos >= 12:
        off, size = struct.unpack(">qi", data[pos:pos + 12])
        if len(data) - pos - 12 < size:
            break
        body = data[pos + 12:pos + 12 + size]
        assert zlib.crc32(body[4:]) == struct.unpack(">I", body[:4])[0], "bad crc"
        magic, attrs = body[4], body[5]
        p = 6
        ts = None
        if magic == 1:
            ts = struct.unpack(">q", body[p:p + 8])[0]
            p += 8
        fields = []
        for _ in range(2):
            n = struct.unpack(">i", body[p:p + 4])[0]
            p += 4
            fields.append(None if n < 0 else body[p:p + n])
            p += max(n, 0)
        assert p == size, "message size"
        out.append((off, magic, attrs, ts, fields[0], fields[1]))
        pos += 12 + size
    return out


# ---------------------------------------------- Produce and Fetch of them

@contextlib.contextmanager
def _on(to):
    """A kwire.Wire as given, or one to a port for the call."""
    if isinstance(to, kwire.Wire):
        yield to
    else:
        with kwire.Wire(to) as w:
            yield w


def produce(to, version, topic, partition, records, acks=-1, timeout_ms=30000):
    """Produce records (bytes as given) to one partition, over a
    kwire.Wire or a new connection to a port: the partition's answer
    (index, error_code, base_offset, record_errors, error_message...)."""
    with _on(to) as w:
        r = w.call(0, version, {
            "acks": acks, "timeout_ms": timeout_ms,
            "topic_data": [{"name": topic, "partition_data": [
                {"index": partition, "records": records}]}]})
    [t] = r["responses"]
    [p] = t["partition_responses"]
    assert t["name"] == topic and p["index"] == partition, r
    return p


def fetch(to, version, topic, partition, offset, rack="", replica_id=-1,
          max_wait_ms=0, min_bytes=1, max_bytes=1 << 20, part_max=None,
          epoch=-1):
    """Fetch one partition from offset, over a kwire.Wire or a new
    connection to a port: the partition's answer (error_code,
    high_watermark, preferred_read_replica, records...)."""
    with _on(to) as w:
        r = w.call(1, version, {
            "replica_id": replica_id, "max_wait_ms": max_wait_ms,
            "min_bytes": min_bytes, "max_bytes": max_bytes,
            "topics": [{"topic": topic, "partitions": [
                {"partition": partition, "current_leader_epoch": epoch,
                 "fetch_offset": offset,
                 "partition_max_bytes": max_bytes if part_max is None
                 else part_max}]}],
            "rack_id": rack})
    [t] = r["responses"]
    [p] = t["partitions"]
    assert t["topic"] == topic and p["partition_index"] == partition, r
    if p["records"] is None:
        p["records"] = b""
    return p
