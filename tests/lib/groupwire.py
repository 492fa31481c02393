"""Group protocol requests on a plain socket, for the error paths and the
timing no client library exposes: request header v1, non-flexible bodies
(JoinGroup v5, SyncGroup v3, Heartbeat v3, LeaveGroup v3, DescribeGroups
v0, DeleteGroups v0, FindCoordinator v1).

    w = Wire(port)
    w.send(11, 5, join_req("g", ""))
    j = join_resp(w.recv())
"""

import socket
import struct


class Wire:
    def __init__(self, port):
        self.sk = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.corr = 0

    @staticmethod
    def s(x):
        if x is None:
            return struct.pack(">h", -1)
        b = x.encode()
        return struct.pack(">h", len(b)) + b

    @staticmethod
    def b(x):
        return struct.pack(">i", len(x)) + x

    def send(self, key, ver, body):
        self.corr += 1
        req = struct.pack(">hhi", key, ver, self.corr) + self.s("groupwire") + body
        self.sk.sendall(struct.pack(">i", len(req)) + req)

    def recv(self):
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = self.sk.recv(65536)
            assert chunk, "connection closed"
            data += chunk
        return Reader(data[8:])         # size, correlation id

    def close(self):
        self.sk.close()


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def i(self, fmt):
        v = struct.unpack_from(">" + fmt, self.d, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def s(self):
        n = self.i("h")
        if n < 0:
            return None
        v = self.d[self.p:self.p + n].decode()
        self.p += n
        return v

    def b(self):
        n = self.i("i")
        v = self.d[self.p:self.p + max(n, 0)]
        self.p += max(n, 0)
        return v


def join_req(group, member, instance=None, session_ms=10000, rebalance_ms=10000,
             meta=None):
    if meta is None:
        meta = b"meta-" + (instance or member).encode()
    return (Wire.s(group) + struct.pack(">ii", session_ms, rebalance_ms) +
            Wire.s(member) + Wire.s(instance) + Wire.s("consumer") +
            struct.pack(">i", 1) + Wire.s("range") + Wire.b(meta))


def join_resp(r):
    r.i("i")
    out = {"error": r.i("h"), "generation": r.i("i"), "protocol": r.s(),
           "leader": r.s(), "member": r.s(), "members": []}
    for _ in range(r.i("i")):
        out["members"].append((r.s(), r.s(), r.b()))
    return out


def heartbeat(w, group, gen, member, instance=None):
    w.send(12, 3, Wire.s(group) + struct.pack(">i", gen) + Wire.s(member) +
           Wire.s(instance))
    r = w.recv()
    r.i("i")
    return r.i("h")


def sync(w, group, gen, member, assignments, instance=None):
    body = Wire.s(group) + struct.pack(">i", gen) + Wire.s(member) + Wire.s(instance)
    body += struct.pack(">i", len(assignments))
    for m, a in assignments:
        body += Wire.s(m) + Wire.b(a)
    w.send(14, 3, body)
    r = w.recv()
    r.i("i")
    return r.i("h"), r.b()


def find_coordinator(w, group):
    """True once the broker coordinates group (FindCoordinator v1)."""
    w.send(10, 1, Wire.s(group) + struct.pack(">b", 0))
    r = w.recv()
    r.i("i")
    return r.i("h") == 0


def describe_group(w, group):
    """DescribeGroups v0: (error, state, [member ids])."""
    w.send(15, 0, struct.pack(">i", 1) + Wire.s(group))
    r = w.recv()
    assert r.i("i") == 1
    err, _, state, _, _ = r.i("h"), r.s(), r.s(), r.s(), r.s()
    members = []
    for _ in range(r.i("i")):
        members.append(r.s())
        r.s(), r.s(), r.b(), r.b()
    return err, state, members


def delete_group(w, group):
    """DeleteGroups v0: the group's error code."""
    w.send(42, 0, struct.pack(">i", 1) + Wire.s(group))
    r = w.recv()
    r.i("i")                                    # throttle
    assert r.i("i") == 1
    assert r.s() == group
    return r.i("h")
