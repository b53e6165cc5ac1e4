#!/usr/bin/env python3
"""chart_render: render charts/provgate without helm, for the render checks of
tests/integration/t_deploy_manifests.sh.

It implements the subset of Go text/template and Helm functions the chart
uses (if/else if/else, range, with, define/include, variables, pipelines,
trim markers, and the functions listed in FUNCS), and fails loudly on
anything else, so a template that needs more than this is noticed, not
silently mis-rendered.  genCA / genSignedCert make real certificates with
openssl, lookup finds nothing (as `helm template` does).

usage: chart_render.py CHART_DIR [--set-json PATH=JSON]... [--release NAME]
                       [--namespace NS] [--show-only FILE]
Prints every rendered template as YAML documents, each starting with
"# Source: provgate/templates/FILE".
"""
import base64
import collections
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml


class TemplateError(Exception):
    pass


# ------------------------------------------------------------------ lexing
ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


def lex(src, name):
    """Text and action pieces, with trim markers applied to the text."""
    out = []
    pos = 0
    for m in ACTION.finditer(src):
        text = src[pos:m.start()]
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        out.append(("text", text))
        body = m.group(2).strip()
        out.append(("action", body, name))
        pos = m.end()
        if m.group(3):
            rest = src[pos:]
            pos += len(rest) - len(rest.lstrip(" \t\r\n"))
    out.append(("text", src[pos:]))
    return out


TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:\\.|[^"\\])*")|
    (?P<raw>`[^`]*`)|
    (?P<num>-?\d+)|
    (?P<assign>:=|=)|
    (?P<punct>[()|,])|
    (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)|
    (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)|
    (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
)""", re.X)


def tokens(s):
    out = []
    pos = 0
    s = s.rstrip()
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise TemplateError("cannot tokenize %r at %d" % (s, pos))
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


# ------------------------------------------------------------------ parsing
def parse(pieces):
    """A tree: list of nodes; blocks nest until their end."""
    root = []
    stack = [("root", root, None)]
    defines = {}
    for p in pieces:
        cur = stack[-1][1]
        if p[0] == "text":
            if p[1]:
                cur.append(("text", p[1]))
            continue
        body, name = p[1], p[2]
        if body.startswith("/*"):
            if not body.endswith("*/"):
                raise TemplateError("%s: unterminated comment" % name)
            continue
        word = body.split(None, 1)[0] if body else ""
        rest = body[len(word):].strip()
        if word == "if":
            node = {"kind": "if", "branches": [(tokens(rest), [])], "else": None}
            cur.append(("block", node))
            stack.append(("if", node["branches"][0][1], node))
        elif word == "else":
            kind, _, node = stack.pop()
            if kind not in ("if", "range", "with"):
                raise TemplateError("%s: else outside a block" % name)
            if rest.startswith("if "):
                node["branches"].append((tokens(rest[3:]), []))
                stack.append(("if", node["branches"][-1][1], node))
            else:
                node["else"] = []
                stack.append(("else", node["else"], node))
        elif word in ("range", "with"):
            toks = tokens(rest)
            var = []
            if any(t[0] == "assign" for t in toks):
                i = [t[0] for t in toks].index("assign")
                var = [t[1] for t in toks[:i] if t[0] == "var"]
                toks = toks[i + 1:]
            node = {"kind": word, "pipe": toks, "vars": var, "body": [], "else": None}
            cur.append(("block", node))
            stack.append((word, node["body"], node))
        elif word == "define":
            nm = json.loads(rest)
            body_nodes = []
            defines[nm] = body_nodes
            stack.append(("define", body_nodes, None))
        elif word == "end":
            if len(stack) == 1:
                raise TemplateError("%s: end without a block" % name)
            stack.pop()
        else:
            cur.append(("action", tokens(body)))
    if len(stack) != 1:
        raise TemplateError("unclosed block (%s)" % stack[-1][0])
    return root, defines


# ------------------------------------------------------------------ values
def truthy(v):
    if v is None or v is False:
        return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v != 0
    if isinstance(v, (str, list, dict, tuple)):
        return len(v) > 0
    return True


def gostr(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        raise TemplateError("printing a map or list needs toYaml: %r" % (v,))
    return str(v)


def to_yaml(v):
    if v is None or v == {} or v == []:
        return "{}" if isinstance(v, dict) else ("[]" if v == [] else "null")
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n")


def openssl(*args, stdin=None):
    r = subprocess.run(["openssl"] + list(args), input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise TemplateError("openssl %s: %s" % (args[0], r.stderr.strip()))
    return r.stdout


def gen_ca(cn, days):
    with tempfile.TemporaryDirectory() as d:
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
                "-subj", "/CN=" + cn, "-keyout", d + "/k", "-out", d + "/c",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,digitalSignature,keyEncipherment")
        return {"Cert": open(d + "/c").read(), "Key": open(d + "/k").read()}


def gen_signed_cert(cn, ips, dns, days, ca):
    with tempfile.TemporaryDirectory() as d:
        open(d + "/ca.c", "w").write(ca["Cert"])
        open(d + "/ca.k", "w").write(ca["Key"])
        san = ",".join(["DNS:" + x for x in (dns or [])] + ["IP:" + x for x in (ips or [])])
        open(d + "/ext", "w").write(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\n" + ("subjectAltName=" + san + "\n" if san else ""))
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
                "-keyout", d + "/k", "-out", d + "/csr")
        openssl("x509", "-req", "-in", d + "/csr", "-CA", d + "/ca.c", "-CAkey", d + "/ca.k",
                "-CAcreateserial", "-days", str(days), "-extfile", d + "/ext", "-out", d + "/c")
        return {"Cert": open(d + "/c").read(), "Key": open(d + "/k").read()}


def go_printf(fmt, *args):
    out, i = [], 0
    for m in re.finditer(r"%[-+ #0]*\d*(?:\.\d+)?[sdvq%]", fmt):
        pass
    def rep(m):
        nonlocal i
        spec = m.group(0)
        if spec == "%%":
            return "%"
        a = args[i]
        i += 1
        if spec[-1] == "q":
            return json.dumps(gostr(a))
        if spec[-1] == "d":
            return str(int(a))
        return gostr(a)
    return re.sub(r"%[-+ #0]*\d*(?:\.\d+)?[sdvq%]", rep, fmt)


def required(msg, v):
    if not truthy(v) and v is not False and v != 0:
        raise TemplateError("required: " + msg)
    return v


def index(m, *keys):
    for k in keys:
        if m is None:
            return None
        if isinstance(m, list):
            m = m[int(k)] if int(k) < len(m) else None
        elif isinstance(m, dict):
            m = m.get(k)
        else:
            raise TemplateError("index of %r" % (m,))
    return m


FUNCS = {
    "quote": lambda *a: " ".join(json.dumps(gostr(x)) for x in a),
    "nindent": lambda n, s: "\n" + "\n".join(" " * int(n) + l if l else l for l in gostr(s).split("\n")),
    "indent": lambda n, s: "\n".join(" " * int(n) + l if l else l for l in gostr(s).split("\n")),
    "toYaml": to_yaml,
    "not": lambda v: not truthy(v),
    "and": lambda *a: next((x for x in a if not truthy(x)), a[-1]),
    "or": lambda *a: next((x for x in a if truthy(x)), a[-1]),
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "lt": lambda a, b: a < b,
    "int": lambda v: int(v or 0),
    "default": lambda d, v=None: v if truthy(v) else d,
    "printf": go_printf,
    "b64enc": lambda s: base64.b64encode(gostr(s).encode()).decode(),
    "list": lambda *a: list(a),
    "index": index,
    "required": required,
    "lookup": lambda *a: {},
    "genCA": gen_ca,
    "genSignedCert": gen_signed_cert,
}


# ------------------------------------------------------------------ evaluation
class Renderer:
    def __init__(self, defines):
        self.defines = defines

    def field(self, obj, path):
        for p in path:
            if obj is None:
                return None
            if isinstance(obj, dict):
                obj = obj.get(p)
            else:
                raise TemplateError("field %s of %r" % (p, obj))
        return obj

    def operand(self, tok, dot, scope):
        kind, v = tok
        if kind == "str":
            return json.loads(v)
        if kind == "raw":
            return v[1:-1]
        if kind == "num":
            return int(v)
        if kind == "field":
            return dot if v == "." else self.field(dot, v[1:].split("."))
        if kind == "var":
            parts = v.split(".")
            if parts[0] not in scope:
                raise TemplateError("undefined variable " + parts[0])
            return self.field(scope[parts[0]], parts[1:])
        if kind == "ident":
            if v in ("true", "false"):
                return v == "true"
            if v == "nil":
                return None
        raise TemplateError("unexpected operand %r" % (v,))

    def command(self, toks, dot, scope, prev, has_prev):
        args = []
        i = 0
        fn = None
        if toks and toks[0][0] == "ident" and toks[0][1] not in ("true", "false", "nil"):
            fn = toks[0][1]
            if fn != "include" and fn not in FUNCS:
                raise TemplateError("function %s is not supported by chart_render.py" % fn)
            i = 1
        while i < len(toks):
            if toks[i] == ("punct", "("):
                depth, j = 1, i + 1
                while depth:
                    if toks[j] == ("punct", "("):
                        depth += 1
                    elif toks[j] == ("punct", ")"):
                        depth -= 1
                    j += 1
                args.append(self.pipeline(toks[i + 1:j - 1], dot, scope))
                i = j
            else:
                args.append(self.operand(toks[i], dot, scope))
                i += 1
        if has_prev:
            args.append(prev)
        if fn is None:
            if len(args) != 1:
                raise TemplateError("not a function: %r" % (toks,))
            return args[0]
        if fn == "include":
            return self.render(self.defines[args[0]], args[1], {"$": scope["$"]})
        return FUNCS[fn](*args)

    def pipeline(self, toks, dot, scope):
        cmds, cur, depth = [], [], 0
        for t in toks:
            if t == ("punct", "("):
                depth += 1
            elif t == ("punct", ")"):
                depth -= 1
            if t == ("punct", "|") and depth == 0:
                cmds.append(cur)
                cur = []
            else:
                cur.append(t)
        cmds.append(cur)
        v, has = None, False
        for c in cmds:
            v = self.command(c, dot, scope, v, has)
            has = True
        return v

    def render(self, nodes, dot, scope):
        out = []
        scope = scope.new_child() if isinstance(scope, collections.ChainMap) else collections.ChainMap(scope)
        for n in nodes:
            if n[0] == "text":
                out.append(n[1])
            elif n[0] == "action":
                toks = n[1]
                if len(toks) > 2 and toks[0][0] == "var" and toks[1][0] == "assign":
                    v = self.pipeline(toks[2:], dot, scope)
                    if toks[1][1] == ":=":
                        scope[toks[0][1]] = v
                    else:  # "=": the variable where it was declared
                        m = next((m for m in scope.maps if toks[0][1] in m), None)
                        if m is None:
                            raise TemplateError("assignment to undeclared " + toks[0][1])
                        m[toks[0][1]] = v
                else:
                    out.append(gostr(self.pipeline(toks, dot, scope)))
            else:
                out.append(self.block(n[1], dot, scope))
        return "".join(out)

    def block(self, b, dot, scope):
        if b["kind"] == "if":
            for cond, body in b["branches"]:
                if truthy(self.pipeline(cond, dot, scope)):
                    return self.render(body, dot, scope)
            return self.render(b["else"], dot, scope) if b["else"] is not None else ""
        v = self.pipeline(b["pipe"], dot, scope)
        if b["kind"] == "with":
            if truthy(v):
                return self.render(b["body"], v, scope)
            return self.render(b["else"], dot, scope) if b["else"] is not None else ""
        if not truthy(v):
            return self.render(b["else"], dot, scope) if b["else"] is not None else ""
        items = sorted(v.items()) if isinstance(v, dict) else list(enumerate(v))
        out = []
        for k, e in items:
            s = scope.new_child()
            if len(b["vars"]) == 2:
                s[b["vars"][0]], s[b["vars"][1]] = k, e
            elif len(b["vars"]) == 1:
                s[b["vars"][0]] = e
            out.append(self.render(b["body"], e, s))
        return "".join(out)


def set_path(values, path, v):
    keys = path.split(".")
    for k in keys[:-1]:
        values = values.setdefault(k, {})
    values[keys[-1]] = v


def main(argv):
    chart = argv[1]
    release, ns, only = "provgate", "provgate", None
    values = yaml.safe_load(open(os.path.join(chart, "values.yaml")))
    i = 2
    while i < len(argv):
        if argv[i] == "--set-json":
            p, j = argv[i + 1].split("=", 1)
            set_path(values, p, json.loads(j))
        elif argv[i] == "--release":
            release = argv[i + 1]
        elif argv[i] == "--namespace":
            ns = argv[i + 1]
        elif argv[i] == "--show-only":
            only = argv[i + 1]
        else:
            raise SystemExit("unknown argument " + argv[i])
        i += 2
    meta = yaml.safe_load(open(os.path.join(chart, "Chart.yaml")))
    tdir = os.path.join(chart, "templates")
    files = sorted(os.listdir(tdir))
    trees, defines = {}, {}
    for f in files:
        tree, defs = parse(lex(open(os.path.join(tdir, f)).read(), f))
        trees[f] = tree
        defines.update(defs)
    top = {"Values": values,
           "Release": {"Name": release, "Namespace": ns, "Service": "Helm"},
           "Chart": {"Name": meta["name"], "Version": meta["version"],
                     "AppVersion": meta.get("appVersion", "")}}
    r = Renderer(defines)
    out = []
    for f in files:
        if f.startswith("_") or f.endswith(".txt") or (only and f != only):
            continue
        text = r.render(trees[f], top, {"$": top})
        for doc in re.split(r"^---\s*$", text, flags=re.M):
            if doc.strip() and any(l.strip() and not l.lstrip().startswith("#")
                                   for l in doc.split("\n")):
                out.append("---\n# Source: %s/templates/%s\n%s\n" % (meta["name"], f, doc.strip("\n")))
    # NOTES.txt must render too
    r.render(trees.get("NOTES.txt", []), top, {"$": top})
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    try:
        main(sys.argv)
    except TemplateError as e:
        sys.stderr.write("Error: %s\n" % e)
        sys.exit(1)
