"""Where things live: each domain depends on another one way only, and shared code on none.

The import graph is read from the source with ``ast`` (every ``import``, those inside
functions too, which hide a cycle from a plain import), and the modules are imported in a
fresh interpreter, in both orders, so that no test's earlier imports mask a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "consult"


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of consult: dotted name -> (file, is a package)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _imports(name: str, path: Path, is_package: bool, modules) -> set[str]:
    """The modules of consult that ``name`` imports anywhere in its source. ``from a import b``
    imports the module ``a.b`` when there is one, else the module ``a``."""
    package = name if is_package else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                targets.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
    imported = set()
    for target in targets:
        while target and target not in modules:  # a name inside a module: the module
            target = target.rpartition(".")[0]
        if target and target != name:
            imported.add(target)
    return imported


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, is_package, modules) for name, (path, is_package) in modules.items()}


def test_no_two_modules_of_consult_import_each_other():
    graph = _graph()
    assert "consult.reports.service" in graph["consult.reports.views"]  # the graph is read at all
    pairs = sorted({tuple(sorted((a, b))) for a, targets in graph.items() for b in targets if a in graph[b]})
    assert not pairs, f"modules importing each other: {pairs}"


def test_the_rate_limits_shared_mechanics_import_no_domain():
    """consult/throttle.py is the mechanics (failure-only counting, the device cookie); each
    domain's policy lives in its own limits.py and the shared module reaches up into none."""
    assert not _graph()["consult.throttle"]
    for domain in ("auth", "polls", "opinions"):
        assert "consult.throttle" in _graph()[f"consult.{domain}.limits"]


@pytest.mark.parametrize("first,second", [("consult.documents.service", "consult.reports.service"),
                                          ("consult.reports.service", "consult.documents.service")])
def test_the_register_and_the_report_import_in_a_fresh_interpreter(first, second):
    code = f"import {first}, {second}; import consult.documents.docx, consult.reports.docx_export"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_no_library_module_private_to_it_is_imported():
    """A library's private module (a dotted name with a part starting with "_", such as
    openpyxl.worksheet._read_only) may change in any release: consult uses what libraries
    document (openpyxl's ``reset_dimensions()`` for a sheet whose dimension lies)."""
    private = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            private += [f"{path.relative_to(ROOT)}: {name}" for name in names
                        if not name.startswith("consult") and any(p.startswith("_") for p in name.split(".")[1:])]
    assert not private, private
