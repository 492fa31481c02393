#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate libkproto's message structs and descriptor tables.

Reads the schema files (libkproto/schema/*.kps, format in schema/README.md)
and writes two files into --out-dir:

  kp_msgs.h  one C struct per request, response and nested struct, the API
             key enum, and extern descriptors;
  kp_msgs.c  the descriptor tables that kp_codec.c interprets to encode,
             decode, size and compare every version of every message.

Only the Python standard library is used, so the build needs nothing but
python3.
"""

import argparse
import os
import re
import sys

VMAX = 32767

PRIMS = {
    # type: (C type, descriptor enum, fixed wire size or 0 when variable)
    "bool": ("bool", "KP_FT_BOOL", 1),
    "int8": ("int8_t", "KP_FT_INT8", 1),
    "int16": ("int16_t", "KP_FT_INT16", 2),
    "uint16": ("uint16_t", "KP_FT_UINT16", 2),
    "int32": ("int32_t", "KP_FT_INT32", 4),
    "uint32": ("uint32_t", "KP_FT_UINT32", 4),
    "int64": ("int64_t", "KP_FT_INT64", 8),
    "float64": ("double", "KP_FT_FLOAT64", 8),
    "uuid": ("kp_uuid", "KP_FT_UUID", 16),
    "string": ("kp_str", "KP_FT_STRING", 0),
    "bytes": ("kp_bytes", "KP_FT_BYTES", 0),
    "records": ("kp_records", "KP_FT_RECORDS", 0),
}

C_KEYWORDS = {"default", "int", "char", "long", "short", "register", "const",
              "static", "struct", "union", "switch", "case", "for", "while",
              "do", "if", "else", "return", "signed", "unsigned", "void",
              "volatile", "auto", "extern", "goto", "break", "continue",
              "sizeof", "typedef", "enum", "float", "double", "inline",
              "restrict", "bool", "true", "false"}


class SchemaError(Exception):
    pass


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def parse_versions(text, where):
    m = re.fullmatch(r"v?(\d+)(\+|-(\d+))?", text)
    if not m:
        raise SchemaError("%s: bad version range %r" % (where, text))
    lo = int(m.group(1))
    if m.group(2) == "+":
        hi = VMAX
    elif m.group(3) is not None:
        hi = int(m.group(3))
    else:
        hi = lo
    if hi < lo:
        raise SchemaError("%s: empty version range %r" % (where, text))
    return lo, hi


class Field:
    def __init__(self, name, typ, where):
        self.name = name
        self.where = where
        self.array = typ.startswith("[]")
        base = typ[2:] if self.array else typ
        self.base = base
        self.is_struct = base not in PRIMS
        if self.is_struct and not re.fullmatch(r"[A-Z][A-Za-z0-9]*", base):
            raise SchemaError("%s: unknown type %r" % (where, typ))
        self.vmin, self.vmax = None, None
        self.nmin, self.nmax = 1, 0  # never nullable
        self.tag = -1
        self.default = None
        self.noflex = False
        self.children = []
        self.struct = None  # resolved Struct


class Struct:
    def __init__(self, name, cname, fields):
        self.name = name
        self.cname = cname
        self.fields = fields


class Api:
    def __init__(self, name, key, vmin, vmax, flex, path):
        self.name = name
        self.key = key
        self.vmin = vmin
        self.vmax = vmax
        self.flex = flex
        self.path = path
        self.snake = snake(name)
        self.req = None
        self.resp = None
        self.structs = []  # all generated structs, children before parents


def tokenize(line):
    # Split on whitespace, keeping quoted strings whole.
    return re.findall(r'"(?:[^"\\]|\\.)*"|\S+', line)


def parse_file(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    api = None
    common = {}
    section = None  # ("struct", name) / ("request",) / ("response",)
    stack = []  # (indent, Field) of open struct fields
    top = {"request": [], "response": []}
    cur_common = None
    for lineno, raw in enumerate(lines, 1):
        where = "%s:%d" % (os.path.basename(path), lineno)
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if "\t" in line:
            raise SchemaError("%s: use spaces, not tabs" % where)
        indent = len(line) - len(line.lstrip(" "))
        toks = tokenize(line)
        if indent == 0:
            stack = []
            if toks[0] == "api":
                if len(toks) != 8 or toks[2] != "key" or toks[4] != "versions" \
                        or toks[6] != "flexible":
                    raise SchemaError("%s: expected 'api NAME key N versions A-B flexible F+|none'" % where)
                lo, hi = parse_versions(toks[5], where)
                flex = VMAX if toks[7] == "none" else parse_versions(toks[7], where)[0]
                api = Api(toks[1], int(toks[3]), lo, hi, flex, path)
            elif toks[0] == "struct" and len(toks) == 2:
                cur_common = []
                common[toks[1]] = cur_common
                section = ("struct", toks[1])
            elif toks[0] in ("request", "response") and len(toks) == 1:
                section = (toks[0],)
            else:
                raise SchemaError("%s: unexpected %r" % (where, line.strip()))
            continue
        if section is None:
            raise SchemaError("%s: field outside a section" % where)
        if indent % 4:
            raise SchemaError("%s: indent by multiples of four spaces" % where)
        level = indent // 4
        f = parse_field(toks, where)
        while stack and stack[-1][0] >= level:
            stack.pop()
        if stack:
            if stack[-1][0] != level - 1:
                raise SchemaError("%s: over-indented field" % where)
            parent = stack[-1][1]
            if not parent.is_struct:
                raise SchemaError("%s: %s is not a struct and takes no fields" % (where, parent.name))
            parent.children.append(f)
        else:
            if level != 1:
                raise SchemaError("%s: top-level fields are indented once" % where)
            if section[0] == "struct":
                cur_common.append(f)
            else:
                top[section[0]].append(f)
        if f.is_struct:
            stack.append((level, f))
    if api is None:
        raise SchemaError("%s: no 'api' line" % path)
    build_api(api, top, common)
    return api


def parse_field(toks, where):
    if len(toks) < 2:
        raise SchemaError("%s: a field needs a name and a type" % where)
    name, typ = toks[0], toks[1]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise SchemaError("%s: field names are lower snake case: %r" % (where, name))
    f = Field(name, typ, where)
    i = 2
    while i < len(toks):
        t = toks[i]
        if re.fullmatch(r"v\d+(\+|-\d+)?", t):
            f.vmin, f.vmax = parse_versions(t, where)
        elif t == "null":
            if i + 1 < len(toks) and re.fullmatch(r"v\d+(\+|-\d+)?", toks[i + 1]):
                f.nmin, f.nmax = parse_versions(toks[i + 1], where)
                i += 1
            else:
                f.nmin, f.nmax = 0, VMAX
        elif t == "default":
            if i + 1 >= len(toks):
                raise SchemaError("%s: default needs a value" % where)
            f.default = toks[i + 1]
            i += 1
        elif t == "tag":
            if i + 1 >= len(toks) or not toks[i + 1].isdigit():
                raise SchemaError("%s: tag needs a number" % where)
            f.tag = int(toks[i + 1])
            i += 1
        elif t == "noflex":
            f.noflex = True
        elif t == "ignorable":
            pass
        else:
            raise SchemaError("%s: unknown attribute %r" % (where, t))
        i += 1
    if f.nmin <= f.nmax and not f.array and f.base not in ("string", "bytes", "records"):
        raise SchemaError("%s: only strings, bytes, records and arrays can be null" % where)
    return f


def build_api(api, top, common):
    common_structs = {}

    def resolve(fields, pmin, pmax, prefix, is_common=False):
        for f in fields:
            if f.vmin is None:
                f.vmin, f.vmax = pmin, pmax
            # A field exists only where its parent does.
            f.vmin = max(f.vmin, pmin)
            f.vmax = min(f.vmax, pmax)
            if f.vmin > f.vmax:
                raise SchemaError("%s: versions outside the enclosing ones" % f.where)
            if f.tag >= 0 and f.vmin < api.flex:
                raise SchemaError("%s: tagged field in a non-flexible version" % f.where)
            if f.is_struct:
                if f.children:
                    cname = "%s_%s" % (prefix, snake(f.base))
                    resolve(f.children, f.vmin, f.vmax, prefix)
                    st = Struct(f.base, cname, f.children)
                    api.structs.append(st)
                    f.struct = st
                elif f.base in common:
                    f.struct = get_common(f.base)
                else:
                    raise SchemaError("%s: struct %s has no fields" % (f.where, f.base))

    def get_common(name):
        if name not in common_structs:
            cname = "kp_%s_%s" % (api.snake, snake(name))
            fields = common[name]
            resolve(fields, 0, VMAX, "kp_%s" % api.snake, True)
            st = Struct(name, cname, fields)
            api.structs.append(st)
            common_structs[name] = st
        return common_structs[name]

    for kind, short in (("request", "req"), ("response", "resp")):
        if not top[kind]:
            # An empty message (e.g. a request with no fields) is allowed.
            pass
        prefix = "kp_%s_%s" % (api.snake, short)
        resolve(top[kind], api.vmin, api.vmax, prefix)
        st = Struct("%s%s" % (api.name, kind.capitalize()), prefix, top[kind])
        api.structs.append(st)
        if kind == "request":
            api.req = st
        else:
            api.resp = st
    # Names must be unique within the file's generated structs.
    seen = {}
    for st in api.structs:
        if st.cname in seen and seen[st.cname] is not st:
            raise SchemaError("%s: two different structs named %s; rename one" % (api.path, st.name))
        seen[st.cname] = st


def cfield(name):
    return name + "_" if name in C_KEYWORDS else name


def c_member(f):
    if f.is_struct:
        ctype = "struct %s" % f.struct.cname
    else:
        ctype = PRIMS[f.base][0]
    n = cfield(f.name)
    if f.array:
        return ["\t%s *%s;" % (ctype, n), "\tint32_t %s_count;\t/* -1: null */" % n]
    return ["\t%s %s;" % (ctype, n)]


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_init(f):
    """Return the descriptor initialisers for a field's default."""
    d = f.default
    parts = []
    if d is None:
        return parts
    if d == "null":
        if not (f.nmin <= f.nmax):
            raise SchemaError("%s: default null on a field that is never null" % f.where)
        parts.append(".def_null = 1")
        return parts
    if f.array or f.is_struct:
        raise SchemaError("%s: arrays and structs take only 'default null'" % f.where)
    if f.base == "string":
        if not d.startswith('"'):
            raise SchemaError("%s: string default must be quoted" % f.where)
        parts.append(".def_str = %s" % d)
    elif f.base == "bool":
        if d not in ("true", "false"):
            raise SchemaError("%s: bool default must be true or false" % f.where)
        parts.append(".def_int = %d" % (1 if d == "true" else 0))
    elif f.base == "float64":
        parts.append(".def_f = %s" % float(d))
    elif f.base in ("bytes", "records", "uuid"):
        raise SchemaError("%s: %s takes no default but null" % (f.where, f.base))
    else:
        try:
            v = int(d, 0)
        except ValueError:
            raise SchemaError("%s: bad integer default %r" % (f.where, d))
        parts.append(".def_int = %dLL" % v if v >= -2**31 else ".def_int = (-%dLL - 1)" % (-(v + 1)))
    return parts


def generate(apis, out_dir):
    h = []
    c = []
    h.append("/* Generated by libkproto/gen_msgs.py from the files in libkproto/schema. Do not edit. */")
    h.append("#ifndef KP_MSGS_H\n#define KP_MSGS_H\n")
    h.append("#include <stdbool.h>\n#include <stdint.h>\n\n#include \"kp_buf.h\"\n#include \"kp_codec.h\"\n")
    h.append("enum kp_api_key {")
    for a in sorted(apis, key=lambda a: a.key):
        h.append("\tKP_API_%s = %d," % (a.snake.upper(), a.key))
    h.append("};\n")
    h.append("#define KP_API_KEY_MAX %d\n" % max(a.key for a in apis))

    c.append("/* Generated by libkproto/gen_msgs.py from the files in libkproto/schema. Do not edit. */")
    c.append("#include \"config.h\"\n#include <stddef.h>\n\n#include \"kp_msgs.h\"\n")

    for a in sorted(apis, key=lambda a: a.key):
        h.append("/* ---- %s (key %d, versions %d-%d, flexible %s) ---- */\n" % (
            a.name, a.key, a.vmin, a.vmax, ("%d+" % a.flex) if a.flex != VMAX else "none"))
        for st in a.structs:
            h.append("struct %s {" % st.cname)
            for f in st.fields:
                h.extend(c_member(f))
            h.append("\tstruct kp_tagged_fields _tagged;\t/* unknown tagged fields */")
            h.append("};\n")
        for st in a.structs:
            c.append("extern const struct kp_struct_desc %s_desc;" % st.cname)
        for st in a.structs:
            c.append("static const struct kp_field_desc %s_fields[] = {" % st.cname)
            for f in st.fields:
                n = cfield(f.name)
                ftype = "KP_FT_STRUCT" if f.is_struct else PRIMS[f.base][1]
                init = [
                    ".name = %s" % c_string(f.name),
                    ".type = %s" % ftype,
                    ".array = %d" % (1 if f.array else 0),
                    ".noflex = %d" % (1 if f.noflex else 0),
                    ".vmin = %d" % f.vmin, ".vmax = %d" % f.vmax,
                    ".nmin = %d" % f.nmin, ".nmax = %d" % f.nmax,
                    ".tag = %d" % f.tag,
                    ".off = offsetof(struct %s, %s)" % (st.cname, n),
                ]
                if f.array:
                    init.append(".cnt_off = offsetof(struct %s, %s_count)" % (st.cname, n))
                if f.is_struct:
                    init.append(".sub = &%s_desc" % f.struct.cname)
                init.extend(default_init(f))
                c.append("\t{ %s }," % ", ".join(init))
            if not st.fields:
                c.append("\t{ .name = NULL }")
            c.append("};")
            c.append("const struct kp_struct_desc %s_desc = {" % st.cname)
            c.append("\t.name = %s, .size = sizeof(struct %s)," % (c_string(st.name), st.cname))
            c.append("\t.nfields = %d, .fields = %s_fields," % (len(st.fields), st.cname))
            c.append("\t.tagged_off = offsetof(struct %s, _tagged)," % st.cname)
            c.append("};\n")
        h.append("extern const struct kp_struct_desc %s_desc;" % a.req.cname)
        h.append("extern const struct kp_struct_desc %s_desc;" % a.resp.cname)
        for st in a.structs:
            if st is a.req or st is a.resp:
                continue
            h.append("extern const struct kp_struct_desc %s_desc;" % st.cname)
        h.append("")
        c.append("static const struct kp_api_desc kp_api_%s = {" % a.snake)
        c.append("\t.key = %d, .name = %s, .min = %d, .max = %d, .flex_min = %d," % (
            a.key, c_string(a.name), a.vmin, a.vmax, a.flex))
        c.append("\t.req = &%s_desc, .resp = &%s_desc," % (a.req.cname, a.resp.cname))
        c.append("};\n")

    c.append("const struct kp_api_desc *const kp_apis[KP_API_KEY_MAX + 1] = {")
    for a in sorted(apis, key=lambda a: a.key):
        c.append("\t[%d] = &kp_api_%s," % (a.key, a.snake))
    c.append("};")

    h.append("/* Descriptors of every API, indexed by key; NULL where we have none. */")
    h.append("extern const struct kp_api_desc *const kp_apis[KP_API_KEY_MAX + 1];\n")
    h.append("#endif /* KP_MSGS_H */")

    write_if_changed(os.path.join(out_dir, "kp_msgs.h"), "\n".join(h) + "\n")
    write_if_changed(os.path.join(out_dir, "kp_msgs.c"), "\n".join(c) + "\n")


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("schemas", nargs="+")
    args = ap.parse_args()
    apis = []
    keys = {}
    try:
        for p in sorted(args.schemas):
            a = parse_file(p)
            if a.key in keys:
                raise SchemaError("%s: key %d already used by %s" % (p, a.key, keys[a.key]))
            keys[a.key] = p
            apis.append(a)
    except SchemaError as e:
        print("gen_msgs.py: %s" % e, file=sys.stderr)
        return 1
    os.makedirs(args.out_dir, exist_ok=True)
    generate(apis, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
