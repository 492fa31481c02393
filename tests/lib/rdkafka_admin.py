# SPDX-License-Identifier: Apache-2.0
"""librdkafka's own admin API (ListConsumerGroups, DescribeConsumerGroups,
ListConsumerGroupOffsets: KIP-518 group states), which confluent-kafka 1.7
does not expose, called through ctypes on Debian's librdkafka.so.1 (2.0.2).

    states = list_groups()                           # {group: "Stable", ...}
    states = list_groups(["Empty"])                  # ListGroups v4 filter
    describe_groups(["g"])                           # {g: (state, members)}
    list_offsets("g")                                # {(topic, p): offset}

(each through an Admin(bootstrap) handle, client.id "rdkafka" as
librdkafka's default).
"""

import ctypes

lib = ctypes.CDLL("librdkafka.so.1")
vp = ctypes.c_void_p

STATES = {0: "Unknown", 1: "PreparingRebalance", 2: "CompletingRebalance",
          3: "Stable", 4: "Dead", 5: "Empty"}
CODES = {v: k for k, v in STATES.items()}
OP_LIST_GROUPS, OP_DESCRIBE_GROUPS, OP_LIST_OFFSETS = 12, 13, 14


class TopicPartition(ctypes.Structure):
    _fields_ = [("topic", ctypes.c_char_p), ("partition", ctypes.c_int32),
                ("offset", ctypes.c_int64), ("metadata", vp),
                ("metadata_size", ctypes.c_size_t), ("opaque", vp),
                ("err", ctypes.c_int), ("_private", vp)]


class TopicPartitionList(ctypes.Structure):
    _fields_ = [("cnt", ctypes.c_int), ("size", ctypes.c_int),
                ("elems", ctypes.POINTER(TopicPartition))]


def _sig(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)
    return f


conf_new = _sig("rd_kafka_conf_new", vp)
conf_set = _sig("rd_kafka_conf_set", ctypes.c_int, vp, ctypes.c_char_p,
                ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t)
kafka_new = _sig("rd_kafka_new", vp, ctypes.c_int, vp, ctypes.c_char_p, ctypes.c_size_t)
kafka_destroy = _sig("rd_kafka_destroy", None, vp)
queue_new = _sig("rd_kafka_queue_new", vp, vp)
queue_destroy = _sig("rd_kafka_queue_destroy", None, vp)
queue_poll = _sig("rd_kafka_queue_poll", vp, vp, ctypes.c_int)
event_destroy = _sig("rd_kafka_event_destroy", None, vp)
event_error = _sig("rd_kafka_event_error", ctypes.c_int, vp)
event_error_string = _sig("rd_kafka_event_error_string", ctypes.c_char_p, vp)
options_new = _sig("rd_kafka_AdminOptions_new", vp, vp, ctypes.c_int)
options_destroy = _sig("rd_kafka_AdminOptions_destroy", None, vp)
set_states = _sig("rd_kafka_AdminOptions_set_match_consumer_group_states", vp, vp,
                  ctypes.POINTER(ctypes.c_int), ctypes.c_size_t)
error_string = _sig("rd_kafka_error_string", ctypes.c_char_p, vp)
list_groups_ = _sig("rd_kafka_ListConsumerGroups", None, vp, vp, vp)
list_result = _sig("rd_kafka_event_ListConsumerGroups_result", vp, vp)
list_valid = _sig("rd_kafka_ListConsumerGroups_result_valid", ctypes.POINTER(vp), vp,
                  ctypes.POINTER(ctypes.c_size_t))
list_errors = _sig("rd_kafka_ListConsumerGroups_result_errors", ctypes.POINTER(vp), vp,
                   ctypes.POINTER(ctypes.c_size_t))
listing_id = _sig("rd_kafka_ConsumerGroupListing_group_id", ctypes.c_char_p, vp)
listing_state = _sig("rd_kafka_ConsumerGroupListing_state", ctypes.c_int, vp)
describe_groups_ = _sig("rd_kafka_DescribeConsumerGroups", None, vp,
                        ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, vp, vp)
describe_result = _sig("rd_kafka_event_DescribeConsumerGroups_result", vp, vp)
describe_groups_of = _sig("rd_kafka_DescribeConsumerGroups_result_groups",
                          ctypes.POINTER(vp), vp, ctypes.POINTER(ctypes.c_size_t))
desc_id = _sig("rd_kafka_ConsumerGroupDescription_group_id", ctypes.c_char_p, vp)
desc_error = _sig("rd_kafka_ConsumerGroupDescription_error", vp, vp)
desc_state = _sig("rd_kafka_ConsumerGroupDescription_state", ctypes.c_int, vp)
desc_members = _sig("rd_kafka_ConsumerGroupDescription_member_count", ctypes.c_size_t, vp)
tpl_new = _sig("rd_kafka_topic_partition_list_new", vp, ctypes.c_int)
tpl_add = _sig("rd_kafka_topic_partition_list_add", vp, vp, ctypes.c_char_p, ctypes.c_int32)
tpl_destroy = _sig("rd_kafka_topic_partition_list_destroy", None, vp)
lgo_new = _sig("rd_kafka_ListConsumerGroupOffsets_new", vp, ctypes.c_char_p, vp)
lgo_destroy = _sig("rd_kafka_ListConsumerGroupOffsets_destroy", None, vp)
lgo = _sig("rd_kafka_ListConsumerGroupOffsets", None, vp, ctypes.POINTER(vp),
           ctypes.c_size_t, vp, vp)
lgo_result = _sig("rd_kafka_event_ListConsumerGroupOffsets_result", vp, vp)
lgo_groups = _sig("rd_kafka_ListConsumerGroupOffsets_result_groups", ctypes.POINTER(vp),
                  vp, ctypes.POINTER(ctypes.c_size_t))
group_result_error = _sig("rd_kafka_group_result_error", vp, vp)
group_result_partitions = _sig("rd_kafka_group_result_partitions",
                               ctypes.POINTER(TopicPartitionList), vp)


class Admin:
    """An admin handle (a producer, as librdkafka's admin clients are)."""

    def __init__(self, bootstrap, timeout_ms=60000):
        errbuf = ctypes.create_string_buffer(512)
        conf = conf_new()
        for k, v in (("bootstrap.servers", bootstrap),):
            if conf_set(conf, k.encode(), v.encode(), errbuf, 512) != 0:
                raise RuntimeError(errbuf.value.decode())
        self.rk = kafka_new(0, conf, errbuf, 512)
        if not self.rk:
            raise RuntimeError(errbuf.value.decode())
        self.q = queue_new(self.rk)
        self.timeout_ms = timeout_ms

    def close(self):
        queue_destroy(self.q)
        kafka_destroy(self.rk)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _wait(self, accessor):
        ev = queue_poll(self.q, self.timeout_ms)
        if not ev:
            raise TimeoutError("no admin result")
        if event_error(ev):
            msg = event_error_string(ev).decode()
            event_destroy(ev)
            raise RuntimeError(msg)
        res = accessor(ev)
        if not res:
            event_destroy(ev)
            raise RuntimeError("unexpected event")
        return ev, res

    def list_groups(self, states=None):
        opts = options_new(self.rk, OP_LIST_GROUPS)
        if states is not None:
            arr = (ctypes.c_int * len(states))(*[CODES[s] for s in states])
            err = set_states(opts, arr, len(states))
            if err:
                raise RuntimeError(error_string(err).decode())
        list_groups_(self.rk, opts, self.q)
        options_destroy(opts)
        ev, res = self._wait(list_result)
        n = ctypes.c_size_t()
        errs = list_errors(res, ctypes.byref(n))
        if n.value:
            msg = error_string(errs[0]).decode()
            event_destroy(ev)
            raise RuntimeError(msg)
        items = list_valid(res, ctypes.byref(n))
        out = {listing_id(items[i]).decode(): STATES[listing_state(items[i])]
               for i in range(n.value)}
        event_destroy(ev)
        return out

    def describe_groups(self, groups):
        opts = options_new(self.rk, OP_DESCRIBE_GROUPS)
        arr = (ctypes.c_char_p * len(groups))(*[g.encode() for g in groups])
        describe_groups_(self.rk, arr, len(groups), opts, self.q)
        options_destroy(opts)
        ev, res = self._wait(describe_result)
        n = ctypes.c_size_t()
        items = describe_groups_of(res, ctypes.byref(n))
        out = {}
        for i in range(n.value):
            err = desc_error(items[i])
            if err:
                out[desc_id(items[i]).decode()] = ("error", error_string(err).decode())
            else:
                out[desc_id(items[i]).decode()] = (STATES[desc_state(items[i])],
                                                   desc_members(items[i]))
        event_destroy(ev)
        return out

    def list_offsets(self, group, partitions=None):
        """The committed offsets of group: every one (no partitions named)
        or those of partitions, [(topic, partition), ...]."""
        opts = options_new(self.rk, OP_LIST_OFFSETS)
        plist = None
        if partitions is not None:
            plist = tpl_new(len(partitions))
            for t, p in partitions:
                tpl_add(plist, t.encode(), p)
        req = lgo_new(group.encode(), plist)
        if plist is not None:
            tpl_destroy(plist)
        arr = (vp * 1)(req)
        lgo(self.rk, arr, 1, opts, self.q)
        lgo_destroy(req)
        options_destroy(opts)
        ev, res = self._wait(lgo_result)
        n = ctypes.c_size_t()
        groups = lgo_groups(res, ctypes.byref(n))
        assert n.value == 1
        err = group_result_error(groups[0])
        if err:
            msg = error_string(err).decode()
            event_destroy(ev)
            raise RuntimeError(msg)
        parts = group_result_partitions(groups[0]).contents
        out = {(parts.elems[i].topic.decode(), parts.elems[i].partition): parts.elems[i].offset
               for i in range(parts.cnt)}
        event_destroy(ev)
        return out
