"""The house's layering, checked on the source (issue 21): an AST walk of every module's imports.

Rules (README, Architecture):
* ``rules/`` imports no Flask, no SQLAlchemy and nothing of imh_course outside ``rules/``;
* ``operations/`` never imports ``views/``;
* ``records/`` never writes (no ``session.add/delete/commit/flush``, no Core ``insert/update/delete``)
  and imports no ``operations/`` or ``views/``;
* ``reports/`` and ``content/`` import no ``operations/`` or ``views/``;
* no import cycles among imh_course modules.

``KNOWN`` lists the violations that are older than this test, each to be removed when fixed; a
stale entry fails too, so the list can only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "imh_course"

#: (rule, importer, imported) pairs that predate the test; the test fails when one disappears.
KNOWN: set[tuple[str, str, str]] = set()
KNOWN_CYCLES: set[frozenset[str]] = set()

#: The size guide: a module past this many lines holds more than one thing a reader looks for.
MAX_LINES = 420
#: Modules over MAX_LINES that predate the check; the test fails when one is split (remove it then).
KNOWN_LONG: set[str] = set()
BENCH = PACKAGE.parent / "bench"

WRITES = {"add", "add_all", "delete", "commit", "flush"}
CORE_WRITES = {"insert", "update", "delete"}


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> set[str]:
    """Every module path the file imports (``from a import b`` counts as ``a`` and ``a.b``)."""
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def writes_in(path: Path) -> list[str]:
    """``session.add(…)``/``.commit()``… calls and Core ``insert()/update()/delete()`` statements."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in WRITES
                and isinstance(func.value, ast.Attribute | ast.Name)
                and getattr(func.value, "attr", getattr(func.value, "id", "")) == "session"
            ) or (isinstance(func, ast.Name) and func.id in CORE_WRITES):
                out.append(f"{path.name}:{node.lineno}")
    return out


def modules(root: Path) -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted(root.rglob("*.py"))}


def violations(root: Path) -> set[tuple[str, str, str]]:
    pkg = root.name
    mods = modules(root)
    found: set[tuple[str, str, str]] = set()

    def inside(name: str, sub: str) -> bool:
        return name == f"{pkg}.{sub}" or name.startswith(f"{pkg}.{sub}.")

    for name, path in mods.items():
        imported = {
            i for i in imports_of(root, path) if i in mods or i.split(".")[0] in {"flask", "sqlalchemy"}
        }
        for target in imported:
            if inside(name, "rules") and (
                target.split(".")[0] in {"flask", "sqlalchemy"}
                or (target.startswith(pkg) and not inside(target, "rules"))
            ):
                found.add(("rules are pure", name, target))
            if inside(name, "operations") and inside(target, "views"):
                found.add(("operations never import views", name, target))
            for sub in ("records", "reports", "content"):
                if inside(name, sub) and (inside(target, "operations") or inside(target, "views")):
                    found.add((f"{sub} import no operations or views", name, target))
        if inside(name, "records"):
            found.update(("records never write", name, w) for w in writes_in(path))
    return found


def cycles(root: Path) -> set[frozenset[str]]:
    """Strongly connected components (more than one module) of the module import graph."""
    mods = modules(root)
    graph = {
        name: {i for i in imports_of(root, path) if i in mods and i != name and not name.startswith(i + ".")}
        for name, path in mods.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: set[frozenset[str]] = set()

    def visit(v: str) -> None:  # Tarjan, recursive: the graph is a few hundred modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.add(frozenset(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_layers_hold():
    found = violations(PACKAGE)
    assert found - KNOWN == set(), "new layering violations"
    assert KNOWN - found == set(), "fixed: remove these from KNOWN"


def test_no_new_import_cycles():
    found = cycles(PACKAGE)
    assert found - KNOWN_CYCLES == set(), "new import cycles"
    assert KNOWN_CYCLES - found == set(), "fixed: remove these from KNOWN_CYCLES"


def long_modules(*roots: Path) -> set[str]:
    base = PACKAGE.parent
    return {
        path.relative_to(base).as_posix()
        for root in roots
        for path in root.rglob("*.py")
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }


def test_no_module_outgrows_the_size_guide():
    found = long_modules(PACKAGE, BENCH)
    assert found - KNOWN_LONG == set(), f"over {MAX_LINES} lines: split by what a reader looks for"
    assert KNOWN_LONG - found == set(), "split: remove these from KNOWN_LONG"


def test_the_benchmarks_have_no_import_cycles():
    assert cycles(BENCH) == set()


# --- the check fails on a deliberate violation ----------------------------------------------------


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for d in {p.parent for p in (root / "pkg").rglob("*.py")} | {root / "pkg"}:
        (d / "__init__.py").touch()
    return root / "pkg"


CLEAN = {
    "rules/credit.py": "from .text import plural\n",
    "rules/text.py": "def plural(): ...\n",
    "records/ledgers.py": "from sqlalchemy import select\nfrom ..rules.credit import plural\n",
    "operations/offerings.py": "from ..records.ledgers import select\n",
    "views/learner.py": "from ..operations import offerings\n",
}


def test_a_clean_synthetic_tree_passes(tmp_path):
    root = write_tree(tmp_path, CLEAN)
    assert violations(root) == set()
    assert cycles(root) == set()


@pytest.mark.parametrize(
    ("rel", "text", "rule"),
    [
        ("rules/bad.py", "import flask\n", "rules are pure"),
        ("rules/bad.py", "from sqlalchemy.orm import Session\n", "rules are pure"),
        ("rules/bad.py", "from ..records import ledgers\n", "rules are pure"),
        ("operations/bad.py", "from ..views.learner import x\n", "operations never import views"),
        ("records/bad.py", "from ..operations.offerings import x\n", "records import no operations or views"),
        ("records/bad.py", "def f(db, row):\n    db.session.add(row)\n", "records never write"),
        ("records/bad.py", "def f(session):\n    session.flush()\n", "records never write"),
        ("records/bad.py", "from sqlalchemy import update\nS = update(1)\n", "records never write"),
        ("reports/bad.py", "from ..operations import offerings\n", "reports import no operations or views"),
        ("content/bad.py", "from pkg.views import learner\n", "content import no operations or views"),
    ],
)
def test_a_deliberate_violation_fails(tmp_path, rel, text, rule):
    root = write_tree(tmp_path, {**CLEAN, rel: text})
    assert {v[0] for v in violations(root)} == {rule}


def test_a_deliberate_cycle_fails(tmp_path):
    root = write_tree(tmp_path, {**CLEAN, "rules/text.py": "from .credit import plural\n"})
    assert cycles(root) == {frozenset({"pkg.rules.credit", "pkg.rules.text"})}
