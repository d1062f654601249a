"""The shape of the Terraform and IAM layers.

Their modules import each other without a cycle: the evaluator imports the node handlers,
rendering, the functions, the template language and the value semantics, and none of those
imports it back (they are written against evaluation.py's protocols); the policy modules go
model <- parse / decide <- queries.  Imports inside functions count: a deferred import is still
a dependency.  The Terraform modules stay small, and only the converter from python-hcl2's
parse tree knows what that tree looks like."""

from __future__ import annotations

import ast
from pathlib import Path

import re

import pytest

ROOT = Path(__file__).resolve().parents[1] / "iac_ims"
LAYERS = ("terraform", "iam")
MAX_LINES = 600
LARK_CONVERTER = ROOT / "terraform" / "lark_to_ir.py"
# what only the converter may know: the layout of python-hcl2's trees and Lark's internals
# (building the parser, `from lark import Lark`, and catching `lark.exceptions` are not that)
LARK_TREE_KNOWLEDGE = re.compile(r"_meta\b|str\.__new__|new_line_or_comment|from lark import (?!Lark$)|\bTree\(")

# Imports that would close a cycle if they were not ignored: none left.
PENDING: set[tuple[str, str]] = set()


def _imports(ignored: set[tuple[str, str]] = PENDING, layer: str = "terraform") -> dict[str, set[str]]:
    """Module -> the modules of the layer's package it imports (short names), anywhere in its
    code, but for the `ignored` (importer, imported) pairs."""
    package = f"iac_ims.{layer}"
    source_dir = ROOT / layer
    modules = {p.stem for p in source_dir.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name in modules:
        found: set[str] = set()
        for node in ast.walk(ast.parse((source_dir / f"{name}.py").read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            found.update(t.removeprefix(package + ".") for t in targets if t.removeprefix(package + ".") in modules)
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


@pytest.mark.parametrize("layer", LAYERS)
def test_the_package_has_no_import_cycle(layer):
    assert _cycle(_imports(layer=layer)) is None


def test_the_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_pending_imports_are_still_there():
    """When an importer moves, its entry in PENDING goes too (else it would hide a new cycle)."""
    graph = _imports(ignored=set())
    stale = {(importer, target) for importer, target in PENDING if target not in graph.get(importer, set())}
    assert not stale, f"no longer imported, drop from PENDING: {sorted(stale)}"


@pytest.mark.parametrize("path", sorted((ROOT / "terraform").glob("*.py")), ids=lambda p: p.name)
def test_terraform_modules_stay_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines (more than {MAX_LINES}): split it by concern"


def test_only_the_converter_knows_the_lark_tree():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(ROOT.rglob("*.py")) if path != LARK_CONVERTER
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if LARK_TREE_KNOWLEDGE.search(line)
    ]
    assert offenders == []


def test_the_knowledge_pattern_catches_what_it_is_for():
    caught = ["node._meta = x", "str.__new__(Token, v)", 'c.data != "new_line_or_comment"',
              "from lark import Token, Tree", "Tree('x', [])"]
    allowed = ["from lark import Lark", "from lark.exceptions import UnexpectedToken", "metadata = 1"]
    assert all(LARK_TREE_KNOWLEDGE.search(line) for line in caught)
    assert not any(LARK_TREE_KNOWLEDGE.search(line) for line in allowed)
