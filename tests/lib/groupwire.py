# SPDX-License-Identifier: Apache-2.0
"""The group protocol's calls on a plain connection (kwire), for the error
paths and the timing no client library exposes: JoinGroup v5, SyncGroup
v3, Heartbeat v3, LeaveGroup v3, FindCoordinator v1, DescribeGroups v0,
DeleteGroups v0, OffsetDelete v0.

    w = Wire(port)
    w.send(11, 5, join_req("g", ""))      # answered later, in order
    j = join_resp(w.recv())
    heartbeat(w, "g", j["generation"], j["member"])
"""

from kwire import Wire  # noqa: F401  (what the tests open)


def join_req(group, member, instance=None, session_ms=10000, rebalance_ms=10000,
             meta=None):
    """A JoinGroup v5 request: protocol type "consumer", one protocol
    "range" whose metadata names the member unless meta is given."""
    if meta is None:
        meta = b"meta-" + (instance or member).encode()
    return {"group_id": group, "session_timeout_ms": session_ms,
            "rebalance_timeout_ms": rebalance_ms, "member_id": member,
            "group_instance_id": instance, "protocol_type": "consumer",
            "protocols": [{"name": "range", "metadata": meta}]}


def join_resp(r):
    """A JoinGroup answer as {error, generation, protocol, leader, member,
    members: [(member id, instance id, metadata)]}."""
    return {"error": r["error_code"], "generation": r["generation_id"],
            "protocol": r["protocol_name"], "leader": r["leader"],
            "member": r["member_id"],
            "members": [(m["member_id"], m["group_instance_id"], m["metadata"])
                        for m in r["members"]]}


def heartbeat(w, group, gen, member, instance=None):
    """Heartbeat v3: the error code."""
    return w.call(12, 3, {"group_id": group, "generation_id": gen,
                          "member_id": member,
                          "group_instance_id": instance})["error_code"]


def sync_req(group, gen, member, assignments, instance=None):
    """A SyncGroup v3 request; assignments [(member id, bytes)]."""
    return {"group_id": group, "generation_id": gen, "member_id": member,
            "group_instance_id": instance,
            "assignments": [{"member_id": m, "assignment": a}
                            for m, a in assignments]}


def sync_resp(r):
    """A SyncGroup answer: (error, assignment)."""
    return r["error_code"], r["assignment"]


def sync(w, group, gen, member, assignments, instance=None):
    """SyncGroup v3: (error, assignment)."""
    return sync_resp(w.call(14, 3, sync_req(group, gen, member, assignments,
                                            instance)))


def leave(w, group, members):
    """LeaveGroup v3 for [(member id, instance id)]: (error, [(member id,
    instance id, error)])."""
    r = w.call(13, 3, {"group_id": group, "members": [
        {"member_id": m, "group_instance_id": i} for m, i in members]})
    return r["error_code"], [(m["member_id"], m["group_instance_id"],
                              m["error_code"]) for m in r["members"]]


def find_coordinator(w, group):
    """True once the broker coordinates group (FindCoordinator v1)."""
    return w.call(10, 1, {"key": group, "key_type": 0})["error_code"] == 0


def describe_group(w, group):
    """DescribeGroups v0: (error, state, [member ids])."""
    r = w.call(15, 0, {"groups": [group]})
    [g] = r["groups"]
    return g["error_code"], g["group_state"], [m["member_id"] for m in g["members"]]


def delete_group(w, group):
    """DeleteGroups v0: the group's error code."""
    r = w.call(42, 0, {"groups_names": [group]})
    [g] = r["results"]
    assert g["group_id"] == group, r
    return g["error_code"]


def offset_delete(w, group, topic, parts):
    """OffsetDelete v0: (group error, {partition: error})."""
    r = w.call(47, 0, {"group_id": group, "topics": [
        {"name": topic, "partitions": [{"partition_index": p} for p in parts]}]})
    return r["error_code"], {p["partition_index"]: p["error_code"]
                             for t in r["topics"] for p in t["partitions"]}
