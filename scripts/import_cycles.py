"""Finds import cycles between the files of src/ (DESIGN.md: "a module reads what lies upstream of
it"). An edge a -> b when file a names a path `crate::...` that resolves into file b, when a
mod.rs names or re-exports a child (`pub use child::X`, `child::x`), or when a child names its
parent's own items (`super::Item`, `super::{...}`). Comment lines and `#[cfg(test)] mod tests`
blocks are ignored. Exits 1 and lists the cycles when there are any.

    python3 scripts/import_cycles.py [src]
"""
import os, re, sys, itertools
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
files = {}
for dp, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.join(dp, f)
            rel = os.path.relpath(p, root)[:-3]
            parts = rel.split(os.sep)
            if parts[-1] in ('mod', 'lib'):
                parts = parts[:-1]
            files[tuple(parts)] = p
def module_of(path):
    # longest prefix that is a file module
    for k in range(len(path), -1, -1):
        if tuple(path[:k]) in files:
            return tuple(path[:k])
    return None
edges = {}
for mod, p in files.items():
    src = open(p).read()
    # drop test modules roughly: cut at '#[cfg(test)]\nmod tests'
    src = "\n".join(l for l in src.split("\n") if not l.lstrip().startswith("//"))
    src = re.split(r'#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*mod tests', src)[0]
    targets = set()
    for m in re.finditer(r'crate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)', src):
        path = m.group(1).split('::')
        t = module_of(path)
        if t is not None and t != mod and t != ():
            targets.add(t)
    # in a mod.rs (or lib.rs), `use child::...` / `pub use child::...` and `child::item` paths
    for m in re.finditer(r'(?<![:\w])([a-z_][a-z0-9_]*)::', src):
        t = files.get(tuple(list(mod) + [m.group(1)]))
        if t is not None:
            targets.add(tuple(list(mod) + [m.group(1)]))
    # `use super::x` inside a file
    for m in re.finditer(r'\bsuper::([a-z_][a-z0-9_]*)', src):
        parent = mod[:-1]
        t = module_of(list(parent) + [m.group(1)])
        if t is not None and t != mod and t != ():
            targets.add(t)
    # `super::Item` or `super::{...}` names the parent module's own items
    if re.search(r'\bsuper::(\{|[A-Z]|[a-z_][a-z0-9_]*\b(?!::))', src) and mod[:-1] in files and mod[:-1] != ():
        targets.add(mod[:-1])
    edges[mod] = targets
# cycles of length 2 and longer via DFS (report strongly connected components)
index = {}; low = {}; stack = []; on = set(); sccs = []; i = [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
for v in files:
    if v not in index: strong(v)
for c in sccs:
    names = ['/'.join(x) for x in c]
    print('cycle among:', ', '.join(sorted(names)))
    for a in c:
        for b in c:
            if b in edges.get(a, ()):
                print('   ', '/'.join(a), '->', '/'.join(b))
if not sccs:
    print('no cycles among', len(files), 'files')
else:
    sys.exit(1)
