"""The modules of iac_ims.terraform import each other without a cycle: the evaluator imports the
node handlers, rendering, the functions, the template language and the value semantics, and
none of those imports it back (they are written against evaluation.py's protocols).  Imports
inside functions count: a deferred import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "iac_ims.terraform"
SOURCE = Path(__file__).resolve().parents[1] / "iac_ims" / "terraform"

# Imports of names that have moved, by importers not yet moved with them (the loader's modules
# import evaluate_template from template; the parsers import heredoc_body from template, which
# now only re-exports it from heredoc.py).  Each goes when its importer does.
PENDING = {("template", "evaluate"), ("lark_to_ir", "template"), ("fastparse", "template")}


def _imports(ignored: set[tuple[str, str]] = PENDING) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (short names), anywhere in its code,
    but for the `ignored` (importer, imported) pairs."""
    modules = {p.stem for p in SOURCE.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name in modules:
        found: set[str] = set()
        for node in ast.walk(ast.parse((SOURCE / f"{name}.py").read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            found.update(t.removeprefix(PACKAGE + ".") for t in targets if t.removeprefix(PACKAGE + ".") in modules)
        graph[name] = {target for target in found if (name, target) not in ignored}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (as a path that ends where it starts), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        path: list[str] = []
        on_path: set[str] = set()
        stack = [(start, iter(sorted(graph[start])))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, targets = stack[-1]
            for target in targets:
                if target in on_path:
                    return path[path.index(target):] + [target]
                if target not in done:
                    stack.append((target, iter(sorted(graph[target]))))
                    path.append(target)
                    on_path.add(target)
                    break
            else:
                stack.pop()
                done.add(path.pop())
                on_path.discard(node)
    return None


def test_the_package_has_no_import_cycle():
    assert _cycle(_imports()) is None


def test_the_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_pending_imports_are_still_there():
    """When an importer moves, its entry in PENDING goes too (else it would hide a new cycle)."""
    graph = _imports(ignored=set())
    stale = {(importer, target) for importer, target in PENDING if target not in graph.get(importer, set())}
    assert not stale, f"no longer imported, drop from PENDING: {sorted(stale)}"
