"""The Kafka wire format by hand, for tests that must send what no client
library would: crafted record batches and requests on a plain socket.

    b = batch([record(0, 0, b"k", b"v")], base_ts=-1, max_ts=0)
    with Conn(port) as c:
        body = c.call(0, 7, produce_v3_body("t", 0, b))

Only what the tests need; every reader checks lengths (struct raises on
short input) so a wrong answer fails the test rather than hanging it.
"""

import socket
import struct

_CRC32C = []


def crc32c(data):
    if not _CRC32C:
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ (0x82f63b78 if c & 1 else 0)
            _CRC32C.append(c)
    crc = 0xffffffff
    for b in data:
        crc = _CRC32C[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc ^ 0xffffffff


def varint(n):
    """A zig-zag varint, as record fields are written."""
    u = ((n << 1) ^ (n >> 63)) & ((1 << 64) - 1)
    out = bytearray()
    while u >= 0x80:
        out.append(u & 0x7f | 0x80)
        u >>= 7
    return bytes(out + bytes([u]))


def nullable(b):
    return varint(-1) if b is None else varint(len(b)) + b


def record(odelta, tdelta, key, value, headers=()):
    body = (b"\0" + varint(tdelta) + varint(odelta) + nullable(key) +
            nullable(value) + varint(len(headers)) +
            b"".join(varint(len(k)) + k + nullable(v) for k, v in headers))
    return varint(len(body)) + body


def batch(recs, base_ts, max_ts, base=0, attributes=0, last_delta=None):
    """A v2 record batch (magic 2) with the header timestamps given."""
    tail = struct.pack(">hiqqqhii", attributes,
                       len(recs) - 1 if last_delta is None else last_delta,
                       base_ts, max_ts, -1, -1, -1, len(recs)) + b"".join(recs)
    return struct.pack(">qiibI", base, 9 + len(tail), 0, 2, crc32c(tail)) + tail


def string(s):
    if s is None:
        return struct.pack(">h", -1)
    s = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(s)) + s


def produce_body(topic, partition, records, acks=-1, timeout_ms=30000):
    """A Produce v3-v8 body (classic encoding): one partition."""
    return (string(None) + struct.pack(">hii", acks, timeout_ms, 1) +
            string(topic) + struct.pack(">iii", 1, partition, len(records)) +
            records)


class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)
        self.p += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.d[self.p:self.p + n]
        assert len(s) == n, "short string"
        self.p += n
        return s.decode()


def produce_response(body, version):
    """[(topic, partition, error, base_offset, record_errors, message)] of
    a Produce v3-v8 response."""
    r = Reader(body)
    out = []
    for _ in range(r.take(">i")):
        topic = r.string()
        for _ in range(r.take(">i")):
            part, err, base = r.take(">ihq")
            r.take(">q")                        # log_append_time
            if version >= 5:
                r.take(">q")                    # log_start_offset
            rec_errors, msg = [], None
            if version >= 8:
                for _ in range(r.take(">i")):
                    rec_errors.append((r.take(">i"), r.string()))
                msg = r.string()
            out.append((topic, part, err, base, rec_errors, msg))
    return out


class Conn:
    """One plain-socket connection speaking request header v1."""

    def __init__(self, port, host="127.0.0.1", timeout=30):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.corr = 0

    def send(self, api_key, version, body, client_id=b"wire-test"):
        self.corr += 1
        hdr = struct.pack(">hhih", api_key, version, self.corr,
                          len(client_id)) + client_id
        self.s.sendall(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
        return self.corr

    def recv(self, corr):
        size = struct.unpack(">i", self._exact(4))[0]
        data = self._exact(size)
        got = struct.unpack(">i", data[:4])[0]
        assert got == corr, "correlation id %d, expected %d" % (got, corr)
        return data[4:]

    def call(self, api_key, version, body):
        return self.recv(self.send(api_key, version, body))

    def _exact(self, n):
        data = bytearray()
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed by the broker after %d of %d "
                                      "bytes" % (len(data), n))
            data += chunk
        return bytes(data)

    def close(self):
        self.s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def fetch_body(topic, partition, offset, version=11, rack="", replica_id=-1,
               max_wait_ms=0, min_bytes=1, max_bytes=1 << 20, epoch=-1):
    """A Fetch v4-v11 body (classic encoding): one partition."""
    body = struct.pack(">iiiib", replica_id, max_wait_ms, min_bytes,
                       max_bytes, 0)
    if version >= 7:
        body += struct.pack(">ii", 0, -1)       # no session
    part = struct.pack(">i", partition)
    if version >= 9:
        part += struct.pack(">i", epoch)
    part += struct.pack(">q", offset)
    if version >= 5:
        part += struct.pack(">q", -1)           # log_start_offset
    part += struct.pack(">i", max_bytes)
    body += struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1) + part
    if version >= 7:
        body += struct.pack(">i", 0)            # forgotten topics
    if version >= 11:
        body += string(rack)
    return body


def fetch_response(body, version=11):
    """[(topic, partition, error, high_watermark, preferred_read_replica,
    record bytes)] of a Fetch v4-v11 response."""
    r = Reader(body)
    r.take(">i")                                # throttle_time_ms
    if version >= 7:
        r.take(">hi")                           # error_code, session_id
    out = []
    for _ in range(r.take(">i")):
        topic = r.string()
        for _ in range(r.take(">i")):
            part, err, hw = r.take(">ihq")
            r.take(">q")                        # last_stable_offset
            if version >= 5:
                r.take(">q")                    # log_start_offset
            n = r.take(">i")
            for _ in range(max(n, 0)):
                r.take(">qq")
            preferred = r.take(">i") if version >= 11 else -1
            size = r.take(">i")
            data = b""
            if size > 0:
                data = r.d[r.p:r.p + size]
                assert len(data) == size, "short records"
                r.p += size
            out.append((topic, part, err, hw, preferred, data))
    return out
