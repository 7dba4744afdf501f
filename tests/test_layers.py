"""The layers of DESIGN.md ("Layers and rooms"), kept by reading every import in ``src/``.

Imports point down the layer list, never up, and never in a circle. The walk reads every
``import`` statement with ``ast`` -- module level, inside functions (deferred imports) and
inside ``if TYPE_CHECKING:`` blocks alike -- because a deferred import is still a dependency:
it only hides the cycle until the day the function runs first.

An import ``from a.b import c`` depends on ``a.b.c`` when that is a module, else on ``a.b``;
importing ``a.b.c`` also runs ``a/__init__.py`` and ``a/b/__init__.py``, so a module depends
on every package above what it imports, except its own packages (already being imported).
That is how ``demo.democonfig -> cli.recipes`` closed a circle: it ran ``cli/__init__.py``,
which imports ``cli.demo``, which imports ``demo``.

Known upward imports are listed in ``ALLOWED_UPWARD`` with the issue item that removes them;
the test fails on a new one and on a listed one that is gone, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
TOP = "logsieve"

#: DESIGN.md's layer of each room (a package, or a module at the top of ``logsieve``); a
#: module may import only from its own layer or below.
#:
#: Layer 0, below DESIGN.md's list, holds the top-level modules every layer shares. Each
#: imports only the standard library, third-party packages and other layer-0 modules:
#: ``errors`` (ServiceError/ConfigError: every service raises them, the API maps them),
#: ``elements`` and ``tokens`` (request lists and pagination tokens, read by services and
#: written by the API codec), ``durable`` (atomic file replacement, used from storage up to
#: the CLI), ``config_values`` (the wording of config errors, for every component that parses
#: its own section) and ``config`` (the file reader, environment overrides and -- issue 12
#: item 2 -- the registry components add their section parsers to: components import it,
#: so it sits under them and must not import them back).
LAYERS: dict[str, int] = {
    "__init__": 0,
    "errors": 0,
    "elements": 0,
    "tokens": 0,
    "durable": 0,
    "config_values": 0,
    "config": 0,
    "sections": 9,
    "patterns": 1,
    "formats": 2,
    "storage": 3,
    **dict.fromkeys(
        ("logs", "kinesis", "lambdas", "sns", "metrics", "ec2", "cloudtrail", "sts"), 4
    ),
    "cluster": 4,  # which node works which job: leases (storage) for subscriptions and app
    **dict.fromkeys(("subscriptions", "destinations"), 5),
    **dict.fromkeys(("alerts", "notify"), 6),
    "sources": 7,
    **dict.fromkeys(("api", "console"), 8),
    **dict.fromkeys(
        ("app", "cli", "demo", "simulate", "shipping", "check", "export", "__main__"), 9
    ),
}

#: Upward imports that exist today, each with the change that will remove it. Keep this list
#: shrinking: a new upward import fails the test, and so does an entry here that is gone.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


def modules(src: Path) -> dict[str, Path]:
    """Every module under ``src/logsieve`` by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((src / TOP).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports(src: Path) -> dict[str, set[str]]:
    """Each module's dependencies inside ``logsieve``, from every import statement it has."""
    known = modules(src)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        package = name if _is_package(path) else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base += [node.module] if node.module else []
                    module = ".".join(base)
                else:
                    module = node.module or ""
                for alias in node.names:
                    child = f"{module}.{alias.name}"
                    targets.add(child if child in known else module)
        deps = set()
        for target in targets:
            if target != TOP and not target.startswith(TOP + "."):
                continue
            while target not in known:  # ``import logsieve.x.name``: the module holding it
                target = target.rpartition(".")[0]
            deps.add(target)
        deps.discard(name)
        deps.discard(TOP)  # logsieve/__init__.py holds only __version__
        graph[name] = deps
    return graph


def with_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph of what runs: importing ``a.b.c`` first runs the packages above it, except
    the importer's own packages (they are already being imported)."""
    runs = {}
    for name, deps in graph.items():
        own = {*_ancestors(name), name, TOP}
        runs[name] = {a for d in deps for a in (*_ancestors(d), d) if a not in own}
    return runs


def room(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Every import from a module to one in a higher layer."""
    return {
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if LAYERS[room(source)] < LAYERS[room(target)]
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def _describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    return "; ".join(f"{m} -> {', '.join(sorted(graph[m] & members))}" for m in component)


# --- the rules, on the real source ----------------------------------------------------------


def test_every_room_has_a_layer() -> None:
    missing = sorted({room(name) for name in modules(SRC)} - LAYERS.keys())
    assert not missing, f"place these in LAYERS (and DESIGN.md's list): {missing}"


def test_no_import_cycle() -> None:
    graph = with_packages(imports(SRC))
    found = [_describe(component, graph) for component in cycles(graph)]
    assert not found, "import cycles:\n" + "\n".join(found)


def test_no_new_upward_import() -> None:
    new = sorted(upward(imports(SRC)) - ALLOWED_UPWARD.keys())
    assert not new, "imports up the layer list (DESIGN.md 'Layers and rooms'): " + ", ".join(
        f"{source} -> {target}" for source, target in new
    )


def test_allowlist_only_shrinks() -> None:
    gone = sorted(ALLOWED_UPWARD.keys() - upward(imports(SRC)))
    assert not gone, f"no longer imported, remove from ALLOWED_UPWARD: {gone}"


# --- the walk finds what it must, on a planted tree -------------------------------------------


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    for relative, text in {
        "logsieve/__init__.py": "",
        "logsieve/patterns/__init__.py": "",
        "logsieve/api/__init__.py": "",
        "logsieve/api/server.py": "",
        "logsieve/cli/__init__.py": "from .demo import demo\n",
        "logsieve/cli/demo.py": "def demo():\n    from logsieve.demo import run\n",
        "logsieve/cli/recipes.py": "",
        "logsieve/demo/__init__.py": "from .runner import run\n",
        **files,
    }.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "text",
    [
        "from logsieve.api.server import X\n",
        "import logsieve.api.server\n",
        "def f():\n    from ..api import server\n",
        "import typing\nif typing.TYPE_CHECKING:\n    from logsieve.api import server\n",
    ],
    ids=["from", "import", "deferred-relative", "type-checking"],
)
def test_walk_finds_a_planted_upward_import(tmp_path: Path, text: str) -> None:
    src = _plant(tmp_path, {"logsieve/patterns/planted.py": text})
    assert upward(imports(src)) == {("logsieve.patterns.planted", "logsieve.api.server")}


def test_walk_finds_a_cycle_through_a_package_init(tmp_path: Path) -> None:
    """The shape of the cycle this test was written for: importing ``cli.recipes`` runs
    ``cli/__init__.py``, which imports the module that imports the importer."""
    runner = "def write():\n    from logsieve.cli.recipes import add_tables\n"
    src = _plant(tmp_path, {"logsieve/demo/runner.py": runner})
    graph = with_packages(imports(src))
    assert cycles(graph) == [
        ["logsieve.cli", "logsieve.cli.demo", "logsieve.demo", "logsieve.demo.runner"]
    ]
    src = _plant(tmp_path, {"logsieve/demo/runner.py": "def write():\n    pass\n"})
    assert cycles(with_packages(imports(src))) == []
