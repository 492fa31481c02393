# SPDX-License-Identifier: Apache-2.0
"""The Kafka wire format in Python for the integration tests: the base
every test that talks the protocol directly builds on (wire.py adds
hand-made record data, groupwire.py the group protocol's calls).

It reads the message schemas (libkproto/schema/*.kps, through
libkproto/gen_msgs.py's parser) and encodes requests / decodes responses of
any API at any version on its own, independently of libkproto's C codec:
classic and compact strings, bytes and arrays, tagged fields, request
header v0/v1/v2 and response header v0/v1 (ApiVersions answers always with
v0, ControlledShutdown v0 is asked with request header v0).

    w = Wire(port)
    resp = w.call(3, 11, {"topics": None, "allow_auto_topic_creation": False})
    resp["brokers"][0]["node_id"]

Values are dicts keyed by field name; arrays are lists (of dicts for
structs); a field left out takes its schema default.  decode() refuses
trailing bytes, so an answer that "decodes" is exactly one well-formed
message of the version asked.  Requests may be pipelined (send, then
recv in order).  For bytes no client would send there are the frame and
header builders, the varints and CRC-32C.
"""

import collections
import glob
import os
import socket
import struct
import sys

TOP = os.environ.get("top_srcdir", ".")
sys.path.insert(0, os.path.join(TOP, "libkproto"))

import gen_msgs  # noqa: E402

VMAX = gen_msgs.VMAX


def load_schemas():
    apis = {}
    for p in sorted(glob.glob(os.path.join(TOP, "libkproto", "schema", "*.kps"))):
        a = gen_msgs.parse_file(p)
        apis[a.key] = a
    return apis


SCHEMAS = load_schemas()


class DecodeError(Exception):
    pass


def present(f, v):
    return f.vmin <= v <= f.vmax


def nullable(f, v):
    return f.nmin <= v <= f.nmax


def default_of(f):
    d = f.default
    if f.array:
        return None if d == "null" else []
    if f.is_struct:
        return struct_default(f.struct)
    if d == "null":
        return None
    if f.base == "string":
        return d.strip('"') if d is not None else ""
    if f.base == "bool":
        return d == "true"
    if f.base in ("bytes", "records"):
        return b""
    if f.base == "uuid":
        return bytes(16)
    if f.base == "float64":
        return float(d) if d is not None else 0.0
    return int(d, 0) if d is not None else 0


def struct_default(st):
    return {f.name: default_of(f) for f in st.fields}


# ------------------------------------------------------------- primitives

def uvarint(n):
    """An unsigned varint, as compact lengths and tags are written."""
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(n):
    """A zig-zag varint (64-bit), as record fields are written."""
    return uvarint(((n << 1) ^ (n >> 63)) & ((1 << 64) - 1))


_CRC32C = []


def crc32c(data):
    """CRC-32C (Castagnoli), the checksum of a v2 record batch."""
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


def header_v1(key, version, corr, client_id="kwire"):
    """Request header v1 (key, version, correlation id, client id), what
    every non-flexible request carries; header v2 adds no tags after it."""
    cid = client_id.encode() if isinstance(client_id, str) else client_id
    return struct.pack(">hhih", key, version, corr, len(cid)) + cid


def frame(payload):
    """A frame: the int32 size, then the bytes."""
    return struct.pack(">i", len(payload)) + payload


# ------------------------------------------------------------- encoding


PRIM_FMT = {"bool": ">?", "int8": ">b", "int16": ">h", "uint16": ">H",
            "int32": ">i", "uint32": ">I", "int64": ">q", "float64": ">d"}


def enc_value(f, base, value, v, flex):
    compact = flex and not f.noflex
    if base in PRIM_FMT:
        return struct.pack(PRIM_FMT[base], value)
    if base == "uuid":
        assert len(value) == 16
        return bytes(value)
    if base == "string":
        if value is None:
            return uvarint(0) if compact else struct.pack(">h", -1)
        b = value.encode()
        return (uvarint(len(b) + 1) if compact else struct.pack(">h", len(b))) + b
    if base in ("bytes", "records"):
        if value is None:
            return uvarint(0) if compact else struct.pack(">i", -1)
        b = bytes(value)
        return (uvarint(len(b) + 1) if compact else struct.pack(">i", len(b))) + b
    return encode_struct(f.struct, v, flex, value)


def enc_field(f, value, v, flex):
    compact = flex and not f.noflex
    if f.array:
        if value is None:
            if not nullable(f, v):
                raise ValueError("%s is not nullable at v%d" % (f.name, v))
            return uvarint(0) if compact else struct.pack(">i", -1)
        out = uvarint(len(value) + 1) if compact else struct.pack(">i", len(value))
        return out + b"".join(enc_value(f, f.base, x, v, flex) for x in value)
    return enc_value(f, f.base, value, v, flex)


def encode_struct(st, v, flex, values):
    values = values or {}
    unknown = set(values) - {f.name for f in st.fields}
    if unknown:
        raise ValueError("no fields %s in %s" % (sorted(unknown), st.name))
    out = bytearray()
    tagged = []
    for f in st.fields:
        if not present(f, v):
            continue
        val = values.get(f.name, default_of(f))
        if f.tag >= 0:
            if flex and f.name in values:
                tagged.append((f.tag, enc_field(f, val, v, flex)))
            continue
        out += enc_field(f, val, v, flex)
    if flex:
        out += uvarint(len(tagged))
        for tag, data in sorted(tagged):
            out += uvarint(tag) + uvarint(len(data)) + data
    return bytes(out)


# ------------------------------------------------------------- decoding

class Reader:
    def __init__(self, buf, pos=0, end=None):
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end

    def take(self, n):
        if n < 0 or self.pos + n > self.end:
            raise DecodeError("short read at %d (+%d of %d)" % (self.pos, n, self.end))
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def uvarint(self):
        shift = n = 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7f) << shift
            if not b & 0x80:
                return n
            shift += 7
            if shift > 28:
                raise DecodeError("varint too long")

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]


def dec_value(f, base, r, v, flex):
    compact = flex and not f.noflex
    if base in PRIM_FMT:
        return r.unpack(PRIM_FMT[base])
    if base == "uuid":
        return r.take(16)
    if base == "string":
        n = r.uvarint() - 1 if compact else r.unpack(">h")
        if n < 0:
            if n != -1 or not nullable(f, v):
                raise DecodeError("%s: null at v%d" % (f.name, v))
            return None
        return r.take(n).decode()
    if base in ("bytes", "records"):
        n = r.uvarint() - 1 if compact else r.unpack(">i")
        if n < 0:
            if n != -1 or not nullable(f, v):
                raise DecodeError("%s: null at v%d" % (f.name, v))
            return None
        return r.take(n)
    return decode_struct(f.struct, v, flex, r)


def dec_field(f, r, v, flex):
    compact = flex and not f.noflex
    if f.array:
        n = r.uvarint() - 1 if compact else r.unpack(">i")
        if n < 0:
            if n != -1 or not nullable(f, v):
                raise DecodeError("%s: null array at v%d" % (f.name, v))
            return None
        if n > r.end - r.pos:
            raise DecodeError("%s: %d elements in %d bytes" % (f.name, n, r.end - r.pos))
        return [dec_value(f, f.base, r, v, flex) for _ in range(n)]
    return dec_value(f, f.base, r, v, flex)


def decode_struct(st, v, flex, r):
    out = {}
    tags = {}
    for f in st.fields:
        if not present(f, v):
            out[f.name] = default_of(f)
            continue
        if f.tag >= 0:
            out[f.name] = default_of(f)
            tags[f.tag] = f
            continue
        out[f.name] = dec_field(f, r, v, flex)
    if flex:
        n = r.uvarint()
        last = -1
        for _ in range(n):
            tag = r.uvarint()
            size = r.uvarint()
            if tag <= last:
                raise DecodeError("tags out of order")
            last = tag
            data_end = r.pos + size
            if data_end > r.end:
                raise DecodeError("tagged field past the end")
            if tag in tags:
                sub = Reader(r.buf, r.pos, data_end)
                out[tags[tag].name] = dec_field(tags[tag], sub, v, flex)
                if sub.pos != data_end:
                    raise DecodeError("tagged field %d: %d bytes left" %
                                      (tag, data_end - sub.pos))
            r.pos = data_end
    return out


def flexible(api, v):
    return v >= api.flex


def request_bytes(key, version, values, corr, client_id="kwire"):
    """A request (header and body, without the size) of key/version."""
    api = SCHEMAS[key]
    flex = flexible(api, version)
    if key == 7 and version == 0:
        hdr = struct.pack(">hhi", key, version, corr)    # header v0
    else:
        hdr = header_v1(key, version, corr, client_id)
        if flex:
            hdr += uvarint(0)
    return hdr + encode_struct(api.req, version, flex, values)


def decode_response(key, version, body, corr):
    """The response body (after the size) of key/version: a dict, or
    DecodeError.  The whole body must be one message."""
    api = SCHEMAS[key]
    flex = flexible(api, version)
    r = Reader(body)
    got = r.unpack(">i")
    if got != corr:
        raise DecodeError("correlation id %d, expected %d" % (got, corr))
    if flex and key != 18:
        r.uvarint()     # no response header tags are ever sent to us
    # ApiVersions answers an unsupported version in a v0 body
    out = decode_struct(api.resp, version, flex, r)
    if r.pos != r.end:
        raise DecodeError("%s v%d: %d bytes left over" % (api.name, version, r.end - r.pos))
    return out


class Closed(Exception):
    pass


class Wire:
    """One plain connection.  call() is one request and its answer;
    send() and recv() pipeline (answers come in the order asked)."""

    def __init__(self, port, host="127.0.0.1", timeout=60, client_id="kwire"):
        self.sk = socket.create_connection((host, port), timeout=timeout)
        self.corr = 0
        self.client_id = client_id
        self.waiting = collections.deque()   # (key, version, corr) asked

    def close(self):
        self.sk.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send_raw(self, payload):
        self.sk.sendall(frame(payload))

    def _exact(self, n, what):
        # a socket with a timeout is non-blocking underneath, where
        # MSG_WAITALL may return less: read until n bytes or EOF
        data = bytearray()
        while len(data) < n:
            chunk = self.sk.recv(n - len(data))
            if not chunk:
                raise Closed("connection closed %s after %d of %d bytes" %
                             (what, len(data), n))
            data += chunk
        return bytes(data)

    def recv_frame(self):
        """The next frame's bytes (after the size)."""
        n = struct.unpack(">i", self._exact(4, "before a frame"))[0]
        return self._exact(n, "mid-frame")

    def send(self, key, version, values=None, expect_response=True):
        """Send a request; its answer is for a later recv()."""
        self.corr += 1
        self.send_raw(request_bytes(key, version, values or {}, self.corr,
                                    self.client_id))
        if expect_response:
            self.waiting.append((key, version, self.corr))
        return self.corr

    def recv(self):
        """The answer to the oldest request sent and not yet received."""
        key, version, corr = self.waiting.popleft()
        return decode_response(key, version, self.recv_frame(), corr)

    def call(self, key, version, values=None, expect_response=True):
        self.send(key, version, values, expect_response)
        return self.recv() if expect_response else None

    def closed_by_peer(self, wait=30):
        """True once the broker has closed the connection (EOF)."""
        self.sk.settimeout(wait)
        try:
            return self.sk.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False


def closes_on(port, data, host="127.0.0.1", timeout=30):
    """Send data on a new connection and stop writing: True when the
    broker closes the connection (a timeout raises)."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while True:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
    finally:
        s.close()


def errors_in(value):
    """Every error_code in a decoded message, depth first."""
    out = []
    if isinstance(value, dict):
        for k, x in value.items():
            if k == "error_code" and isinstance(x, int):
                out.append(x)
            else:
                out += errors_in(x)
    elif isinstance(value, list):
        for x in value:
            out += errors_in(x)
    return out
