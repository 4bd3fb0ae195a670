#!/usr/bin/env python3
"""Import cycles between sibling modules of the same crate.

Scans the `src/` of every crate under the project (every Cargo.toml with a
[package]), follows the module tree from each crate root (`lib.rs`,
`main.rs`, `bin/*.rs`) through its `mod x;` and inline `mod x { ... }`
declarations, and collects the references one module makes to another:
`use crate::a::...`, `use super::...`, `use self::...`, grouped use trees,
and paths written inline (`crate::a::f()`, `super::b::T`). A reference to
an item re-exported by a module (`pub use`) counts as one to the module
that defines it.

Each reference from module S to module T becomes a dependency between the
two children of their deepest common ancestor that contain S and T: a
`health::config_check` that uses `crate::config::Config` makes `health`
depend on `config`. A module that uses an ancestor (`super::Check`) or a
descendant is no dependency between siblings and is left out.

Prints every cycle (a strongly connected set of sibling modules, with the
references that make it) and exits 1 if there is one, 0 if none.

Usage: scripts/import-cycles.py [--skip-tests] [--edges] [ROOT]

  ROOT          the project (default: the parent of this script's directory)
  --skip-tests  leave out `#[cfg(test)]` modules and uses
  --edges       also print every dependency between siblings

Only the standard library; a lexer good enough for module paths (comments,
strings and character literals are blanked first), not a Rust parser.
"""

import argparse
import bisect
import os
import re
import sys
import tomllib
from collections import defaultdict

SKIP_DIRS = {"target", "node_modules", ".git"}


# --------------------------------------------------------------------------
# Lexing: blank comments and literals, so that only code is matched.


def blank(text):
    """`text` with comments, strings and character literals replaced by
    spaces (line feeds kept, so offsets and line numbers stay true)."""
    out = list(text)
    n = len(text)
    i = 0

    def wipe(a, b):
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    def ident_char(c):
        return c.isalnum() or c == "_"

    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            wipe(i, j)
            i = j
        elif c == "/" and text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            wipe(i, j)
            i = j
        elif c in "rb" and (i == 0 or not ident_char(text[i - 1])) and re.match(r'(br|rb|r)#*"', text[i:i + 260]):
            # Raw string: r"..", r#".."#, br#".."#.
            m = re.match(r'(br|rb|r)(#*)"', text[i:])
            end = '"' + m.group(2)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            wipe(i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            wipe(i, j + 1)
            i = j + 1
        elif c == "'":
            if i + 1 < n and text[i + 1] == "\\":
                j = text.find("'", i + 3)
                j = n if j < 0 else j
                wipe(i, j + 1)
                i = j + 1
            elif i + 2 < n and text[i + 2] == "'":
                wipe(i, i + 3)
                i += 3
            else:
                i += 1  # A lifetime or a label.
        else:
            i += 1
    return "".join(out)


def matching_brace(clean, open_at):
    """Offset of the `}` closing the `{` at `open_at`."""
    depth = 0
    for k in range(open_at, len(clean)):
        if clean[k] == "{":
            depth += 1
        elif clean[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return len(clean)


ATTRS = r"((?:#\s*\[(?:[^\[\]]|\[[^\[\]]*\])*\]\s*)*)"
VIS = r"(pub\s*(?:\([^)]*\))?\s*)?"
MOD_RE = re.compile(ATTRS + VIS + r"(?<![\w$])mod\s+(?:r#)?(\w+)\s*([;{])")
USE_RE = re.compile(ATTRS + VIS + r"(?<![\w$:.])use\s+(?!<)([^;]*);")
PATH_RE = re.compile(r"(?<![\w:$])(?<!in )(\$crate|crate|super|self)((?:\s*::\s*(?:r#)?\w+)+)")
ITEM_RE = re.compile(r"(?<![\w$])(?:fn|struct|enum|trait|type|const|static|union)\s+(?:r#)?(\w+)|macro_rules!\s*(\w+)")
PATH_ATTR_RE = re.compile(r'#\s*\[\s*path\s*=\s*"([^"]*)"\s*\]')
TEST_CFG_RE = re.compile(r"cfg\s*\(\s*(?:all\s*\(\s*)?test\b")


def use_tree(body):
    """The paths a use tree names: [(segments, alias)], `*` for a glob."""
    toks = re.findall(r"\$crate|::|[{}*,]|(?:r#)?\w+", body)
    toks = [t[2:] if t.startswith("r#") else t for t in toks]

    def tree(i, prefix):
        path = list(prefix)
        if i < len(toks) and toks[i] == "::":
            i += 1
        while i < len(toks):
            t = toks[i]
            if t == "{":
                i += 1
                found = []
                while i < len(toks) and toks[i] != "}":
                    sub, i = tree(i, path)
                    found += sub
                    if i < len(toks) and toks[i] == ",":
                        i += 1
                return found, i + 1
            if t == "*":
                return [(path + ["*"], None)], i + 1
            if t in ",}":
                return [], i
            path.append(t)
            i += 1
            if i < len(toks) and toks[i] == "::":
                i += 1
                continue
            alias = None
            if i + 1 < len(toks) and toks[i] == "as":
                alias, i = toks[i + 1], i + 2
            return [(path, alias)], i
        return ([(path, None)] if path else []), i

    return tree(0, [])[0]


# --------------------------------------------------------------------------
# The module tree of one crate target.


class Crate:
    def __init__(self, name, root_file):
        self.name = name
        self.modules = {}  # path tuple -> {"file", "test"}
        self.reexports = defaultdict(dict)  # module -> name -> absolute path
        self.globs = defaultdict(list)  # module -> [absolute path]
        self.items = defaultdict(set)  # module -> item names defined there
        self.refs = []  # (source module, segments, in_use, file, line, text, test)
        self.files = 0
        self.missing = []
        self.load(root_file, (), True, False)

    def load(self, path, module, mod_rs, test):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            self.missing.append((module, path))
            return
        self.files += 1
        clean = blank(text)
        lines = [k for k, c in enumerate(clean) if c == "\n"]
        line_of = lambda at: bisect.bisect_right(lines, at) + 1  # noqa: E731
        self.modules[module] = {"file": path, "test": test}
        child_dir = os.path.dirname(path) if mod_rs else os.path.splitext(path)[0]

        # Inline modules: spans of this file that belong to a deeper module.
        spans = []  # (start, end, inline path, test)
        decls = []
        for m in MOD_RE.finditer(clean):
            attrs, name, kind = m.group(1), m.group(3), m.group(4)
            is_test = bool(TEST_CFG_RE.search(attrs))
            decls.append((m.start(3), name, kind, attrs, is_test, m.end(4) - 1))

        def enclosing(at):
            best = ((), False)
            for start, end, inline, is_test in spans:
                if start < at < end and len(inline) >= len(best[0]):
                    best = (inline, is_test)
            return best

        for at, name, kind, attrs, is_test, brace in decls:
            outer, outer_test = enclosing(at)
            if kind == "{":
                spans.append((brace, matching_brace(clean, brace), outer + (name,), outer_test or is_test))
        for at, name, kind, attrs, is_test, brace in decls:
            outer, outer_test = enclosing(at)
            child = module + outer + (name,)
            child_test = test or outer_test or is_test
            if kind == "{":
                self.modules[child] = {"file": path, "test": child_test}
                continue
            base = os.path.join(child_dir, *outer)
            explicit = PATH_ATTR_RE.search(attrs)
            if explicit:
                where = os.path.dirname(path) if not outer else base
                self.load(os.path.normpath(os.path.join(where, explicit.group(1))), child, True, child_test)
                continue
            flat, nested = os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")
            if os.path.exists(flat):
                self.load(flat, child, False, child_test)
            else:
                self.load(nested, child, True, child_test)

        def where(at):
            inline, inline_test = enclosing(at)
            return module + inline, test or inline_test

        for m in ITEM_RE.finditer(clean):
            self.items[where(m.start())[0]].add(m.group(1) or m.group(2))

        use_spans = []
        for m in USE_RE.finditer(clean):
            use_spans.append((m.start(3), m.end()))
            source, source_test = where(m.start(3))
            source_test = source_test or bool(TEST_CFG_RE.search(m.group(1)))
            public = bool(m.group(2))
            text_ = "use " + " ".join(text[m.start(3):m.end()].split())
            for segs, alias in use_tree(m.group(3)):
                if public:
                    absolute = self.absolute(segs, source, True)
                    if absolute is not None:
                        if absolute[-1:] == ("*",):
                            self.globs[source].append(absolute[:-1])
                        elif absolute:
                            self.reexports[source][alias or absolute[-1]] = absolute
                self.refs.append((source, segs, True, path, line_of(m.start(3)), text_, source_test))
        for m in PATH_RE.finditer(clean):
            if any(a <= m.start() < b for a, b in use_spans):
                continue
            source, source_test = where(m.start())
            segs = [m.group(1)] + [s.strip().removeprefix("r#") for s in m.group(2).split("::")[1:]]
            line = line_of(m.start())
            self.refs.append((source, segs, False, path, line, text[m.start():m.end()].strip(), source_test))

    def absolute(self, segs, module, in_use):
        """`segs` as a path from the crate root, or None (another crate)."""
        segs = list(segs)
        if not segs:
            return None
        first = segs[0]
        if first in ("crate", "$crate"):
            base, rest = (), segs[1:]
        elif first == "super":
            base = module
            while segs and segs[0] == "super":
                if not base:
                    return None
                base, segs = base[:-1], segs[1:]
            rest = segs
        elif first == "self":
            base, rest = module, segs[1:]
        elif in_use and module + (first,) in self.modules:
            base, rest = module, segs  # A 2018 relative path to a child.
        else:
            return None
        rest = [s for s in rest if s != "self"]
        return tuple(base) + tuple(rest)

    def resolve(self, absolute, depth=0):
        """The module `absolute` (a module or an item) is defined in,
        following `pub use` re-exports."""
        k = len(absolute)
        while k > 0 and absolute[:k] not in self.modules:
            k -= 1
        module, rest = absolute[:k], absolute[k:]
        if not rest or rest[0] == "*" or depth > 10:
            return module
        name = rest[0]
        target = self.reexports.get(module, {}).get(name)
        if target is not None and target != absolute[: k + 1]:
            return self.resolve(target + rest[1:], depth + 1)
        for glob in self.globs.get(module, []):
            g = self.resolve(glob, depth + 1)
            if g + (name,) in self.modules or name in self.items.get(g, ()) or name in self.reexports.get(g, {}):
                return self.resolve(g + rest, depth + 1)
        return module

    def edges(self, skip_tests):
        """{(parent, a, b): [evidence]} between sibling modules a -> b."""
        found = defaultdict(list)
        for source, segs, in_use, path, line, text, test in self.refs:
            if skip_tests and (test or self.modules.get(source, {}).get("test")):
                continue
            absolute = self.absolute(segs, source, in_use)
            if absolute is None:
                continue
            target = self.resolve(absolute)
            if source[: len(target)] == target or target[: len(source)] == source:
                continue  # Itself, an ancestor or a descendant.
            common = 0
            while source[common] == target[common]:
                common += 1
            parent = source[:common]
            key = (parent, source[common], target[common])
            if (path, line, text) not in found[key]:
                found[key].append((path, line, text))
        return found


def find_crates(root):
    crates = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        if "Cargo.toml" not in filenames or not os.path.isdir(os.path.join(dirpath, "src")):
            continue
        with open(os.path.join(dirpath, "Cargo.toml"), "rb") as f:
            manifest = tomllib.load(f)
        name = manifest.get("package", {}).get("name")
        if not name:
            continue
        src = os.path.join(dirpath, "src")
        roots = []
        for kind, file in (("lib", "lib.rs"), ("bin", "main.rs")):
            if os.path.exists(os.path.join(src, file)):
                roots.append((f"{name} ({kind})", os.path.join(src, file)))
        bins = os.path.join(src, "bin")
        if os.path.isdir(bins):
            for entry in sorted(os.listdir(bins)):
                full = os.path.join(bins, entry)
                if entry.endswith(".rs"):
                    roots.append((f"{name} (bin {entry[:-3]})", full))
                elif os.path.exists(os.path.join(full, "main.rs")):
                    roots.append((f"{name} (bin {entry})", os.path.join(full, "main.rs")))
        crates += roots
    return crates


def sccs(nodes, succ):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(succ.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            out.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def a_cycle(component, succ):
    """One cycle through the first module of `component`, as a list."""
    members = set(component)
    start = component[0]
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(succ.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return component


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", default=os.path.dirname(here))
    parser.add_argument("--skip-tests", action="store_true", help="leave out #[cfg(test)] modules and uses")
    parser.add_argument("--edges", action="store_true", help="print every dependency between siblings")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    rel = lambda p: os.path.relpath(p, root)  # noqa: E731
    name_of = lambda parent, m: "::".join(("crate",) + parent + (m,))  # noqa: E731

    cycles = 0
    files = 0
    targets = find_crates(root)
    for crate_name, root_file in targets:
        crate = Crate(crate_name, root_file)
        files += crate.files
        for module, path in crate.missing:
            print(f"warning: {crate_name}: no file for module {'::'.join(module)} ({rel(path)})", file=sys.stderr)
        edges = crate.edges(args.skip_tests)
        graphs = defaultdict(lambda: defaultdict(set))
        for parent, a, b in edges:
            graphs[parent][a].add(b)
        if args.edges:
            for parent, a, b in sorted(edges):
                path, line, text = edges[(parent, a, b)][0]
                print(f"{crate_name}: {name_of(parent, a)} -> {b}  ({rel(path)}:{line}: {text})")
        for parent in sorted(graphs):
            succ = graphs[parent]
            nodes = set(succ) | {b for bs in succ.values() for b in bs}
            for component in sccs(nodes, succ):
                if len(component) < 2:
                    continue
                cycles += 1
                cycle = a_cycle(component, succ)
                where = "::".join(("crate",) + parent)
                print(f"{crate_name}: cycle between the modules of {where}: {' -> '.join(cycle)}")
                for a in component:
                    for b in sorted(succ[a] & set(component)):
                        refs = edges[(parent, a, b)]
                        for path, line, text in refs[:3]:
                            print(f"    {a} -> {b}: {rel(path)}:{line}: {text}")
                        if len(refs) > 3:
                            print(f"    {a} -> {b}: … and {len(refs) - 3} more")
    if cycles:
        print(f"{cycles} import cycle(s) between sibling modules ({len(targets)} crate targets, {files} files)")
        return 1
    print(f"no import cycle between sibling modules ({len(targets)} crate targets, {files} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
