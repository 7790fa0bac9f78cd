"""Import contracts of the one import root ``aftershock``, checked on the source with :mod:`ast`.

Who may import whom (``aftershock.`` left out)::

    orchestration (aftershock/*.py, cli/, load/, gameday/)  -> anything
    probes     -> core, faults, probes
    faults     -> core, faults, lab.client
    lab, loadtests, reports -> core and themselves
    core       -> nothing else of the project
    tests, benchmarks, conftest.py -> anything, but never the old top-level names (``import lab``)

Plus: no circle between the packages (core, lab, faults, probes, reports, loadtests, orchestration), none between
the modules of one package, and size limits (a module over 400 lines, a function over 60 lines) unless a
``# long: <why>`` comment says why.

The repository keeps ``core/``, ``lab/``, ... at the top and links ``aftershock/<name>`` to each; the checker reads
the real folders, names ``lab/api.py`` ``aftershock.lab.api`` and skips the links under ``aftershock/``. Every
``import`` counts: module level, inside functions, under ``if TYPE_CHECKING``, relative ones, and
``importlib.import_module("...")`` with a literal name.

Each violation is one line: ``file:line: <importer> imports <imported>: <rule>``.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = "aftershock"
LAYERS = ("core", "lab", "faults", "probes", "reports", "loadtests")
DATA_PACKAGES = ("experiments",)  # package data only; nothing imports it as code
ORCHESTRATION = "orchestration"
FREE = "free"  # tests, benchmarks, conftest.py: may import anything of the new layout
OLD_NAMES = frozenset(LAYERS)
FREE_FOLDERS = ("tests", "benchmarks")

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
LONG_REASON = re.compile(r"#\s*long:\s*\S")

# What each layer may import besides itself (layers) and single modules.
ALLOWED_LAYERS: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "lab": frozenset({"core", "lab"}),
    "loadtests": frozenset({"core", "loadtests"}),
    "reports": frozenset({"core", "reports"}),
    "faults": frozenset({"core", "faults"}),
    "probes": frozenset({"core", "faults", "probes"}),
}
ALLOWED_MODULES: dict[str, frozenset[str]] = {"faults": frozenset({f"{ROOT}.lab.client"})}
RULES = {
    "core": "core may import nothing else of the project",
    "lab": "lab may import only aftershock.core and itself",
    "loadtests": "loadtests may import only aftershock.core and itself",
    "reports": "reports may import only aftershock.core and itself",
    "faults": "faults may import only aftershock.core, itself and aftershock.lab.client",
    "probes": "probes may import only aftershock.core, aftershock.faults and itself",
}
RULE_ORCHESTRATION = "only the orchestration layer, tests and benchmarks may import the orchestration layer"
RULE_OLD_NAME = "the old top-level names are gone: import aftershock.{name} instead"
RULE_PACKAGE_CYCLE = "no import circle between packages: {cycle}"
RULE_MODULE_CYCLE = "no import circle between the modules of {layer}: {cycle}"


@dataclass(frozen=True)
class SourceFile:
    """One Python file: its path relative to the root, its module name and the layer it belongs to."""

    path: Path
    relpath: str
    module: str
    layer: str

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


@dataclass(frozen=True)
class Import:
    """One imported module as written in ``source`` at ``line`` (relative imports resolved)."""

    source: SourceFile
    line: int
    target: str

    def where(self) -> str:
        return f"{self.source.relpath}:{self.line}"


@dataclass
class Tree:
    """The parsed source tree: files, the project's module names and every import."""

    root: Path
    files: list[SourceFile] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)
    imports: list[Import] = field(default_factory=list)
    syntax: dict[str, ast.Module] = field(default_factory=dict)  # relpath -> parsed module


def layer_of(module: str) -> str | None:
    """The layer of an ``aftershock.*`` module name, or None for anything outside the project."""
    parts = module.split(".")
    if parts[0] != ROOT:
        return None
    if len(parts) > 1 and (parts[1] in LAYERS or parts[1] in DATA_PACKAGES):
        return parts[1]
    return ORCHESTRATION


def _python_files(folder: Path, *, skip_links: bool) -> Iterator[Path]:
    """The ``.py`` files under ``folder``, sorted; with ``skip_links`` symlinked folders and files are left out."""
    for path in sorted(folder.iterdir()):
        if path.name == "__pycache__" or path.name.startswith("."):
            continue
        if skip_links and path.is_symlink():
            continue
        if path.is_dir():
            yield from _python_files(path, skip_links=skip_links)
        elif path.suffix == ".py":
            yield path


def _module_name(relative: Path, prefix: tuple[str, ...]) -> str:
    parts = (*prefix, *relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def discover(root: Path) -> list[SourceFile]:
    """Every Python file of the checkout at ``root`` with its module name (``lab/api.py`` -> ``aftershock.lab.api``).

    Layers come from the real top-level folders; ``aftershock/`` is read without its links (they point at those
    same folders). tests/, benchmarks/ and a top-level conftest.py are read for the old-name rule only.
    """
    found: list[SourceFile] = []

    def add(folder: Path, prefix: tuple[str, ...], layer: str | None, *, skip_links: bool = False) -> None:
        if not folder.is_dir():
            return
        for path in _python_files(folder, skip_links=skip_links):
            module = _module_name(path.relative_to(folder), prefix)
            found.append(SourceFile(path, path.relative_to(root).as_posix(), module,
                                    layer or layer_of(module) or FREE))

    for name in LAYERS:
        add(root / name, (ROOT, name), name)
    add(root / ROOT, (ROOT,), None, skip_links=True)
    for name in FREE_FOLDERS:
        add(root / name, (name,), FREE)
    conftest = root / "conftest.py"
    if conftest.is_file():
        found.append(SourceFile(conftest, "conftest.py", "conftest", FREE))
    return found


def _resolve_relative(source: SourceFile, level: int, module: str | None) -> str:
    package = source.module.split(".")
    if not source.is_package:
        package = package[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, module] if module else base)


def _literal_import_module(node: ast.Call) -> str | None:
    """The module of ``importlib.import_module("x")`` / ``import_module("x")`` / ``__import__("x")`` if literal."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in {"import_module", "__import__"} or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and not first.value.startswith("."):
        return first.value
    return None


def imports_of(source: SourceFile, syntax: ast.Module, modules: set[str]) -> Iterator[Import]:
    """Every module ``source`` imports, wherever the statement is (functions and ``if`` blocks included).

    ``from package import name`` counts as importing ``package.name`` when that is a module of the project, else
    as importing ``package``.
    """
    for node in ast.walk(syntax):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(source, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(source, node.level, node.module) if node.level else (node.module or "")
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
            if len(submodules) < len(node.names):
                yield Import(source, node.lineno, base)
            for submodule in submodules:
                yield Import(source, node.lineno, submodule)
        elif isinstance(node, ast.Call):
            literal = _literal_import_module(node)
            if literal is not None:
                yield Import(source, node.lineno, literal)


def parse(root: Path) -> Tree:
    """Read and parse every file :func:`discover` finds under ``root`` and collect their imports."""
    tree = Tree(root, discover(root))
    tree.modules = {f.module for f in tree.files if f.layer != FREE}
    for source in tree.files:
        syntax = ast.parse(source.path.read_text(encoding="utf-8"), filename=source.relpath)
        tree.syntax[source.relpath] = syntax
        tree.imports.extend(imports_of(source, syntax, tree.modules))
    tree.imports.sort(key=lambda i: (i.source.relpath, i.line, i.target))
    return tree


def _message(imp: Import, rule: str) -> str:
    return f"{imp.where()}: {imp.source.module} imports {imp.target}: {rule}"


def layering_violations(tree: Tree) -> list[str]:
    """Imports that break who-may-import-whom, and any import of the old top-level names."""
    problems: list[str] = []
    for imp in tree.imports:
        top = imp.target.split(".")[0]
        if top in OLD_NAMES:
            problems.append(_message(imp, RULE_OLD_NAME.format(name=imp.target)))
            continue
        importer, imported = imp.source.layer, layer_of(imp.target)
        if imported is None or importer in (FREE, ORCHESTRATION):
            continue
        if imported == ORCHESTRATION:
            problems.append(_message(imp, RULE_ORCHESTRATION))
        elif imported not in ALLOWED_LAYERS[importer] and imp.target not in ALLOWED_MODULES.get(importer, ()):
            problems.append(_message(imp, RULES[importer]))
    return problems


def _edges(pairs: Iterable[tuple[str, str, Import]]) -> dict[str, dict[str, Import]]:
    """node -> {neighbour: the first import (by file and line) that makes that edge}."""
    graph: dict[str, dict[str, Import]] = defaultdict(dict)
    for start, end, imp in pairs:
        if start != end:
            graph[start].setdefault(end, imp)
    return graph


def _strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's components of more than one node, each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, {})):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    nodes = sorted(set(graph) | {n for targets in graph.values() for n in targets})
    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(found)


def _shortest_cycle(graph: dict[str, dict[str, Import]], start: str, members: set[str]) -> list[str]:
    """The shortest path start -> ... -> start inside one component (breadth first, neighbours sorted)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in sorted(graph.get(node, {})):
                if nxt not in members:
                    continue
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{start} is in a component but on no cycle")  # cannot happen for Tarjan components


def _cycle_messages(graph: dict[str, dict[str, Import]], rule: str, **labels: str) -> list[str]:
    problems = []
    for component in _strongly_connected(graph):
        cycle = _shortest_cycle(graph, component[0], set(component))
        first = graph[cycle[0]][cycle[1]]
        problems.append(_message(first, rule.format(cycle=" -> ".join(cycle), **labels)))
    return problems


def _module_of(target: str, modules: set[str]) -> str | None:
    """The project module an import runs: the name itself or, for ``import a.b.C``-like names, its longest prefix."""
    parts = target.split(".")
    while parts:
        name = ".".join(parts)
        if name in modules:
            return name
        parts.pop()
    return None


def cycle_violations(tree: Tree) -> list[str]:
    """Circles between packages, then circles between the modules of each package (one line per circle)."""
    project = [(imp, layer_of(imp.target)) for imp in tree.imports if imp.source.layer not in (FREE,)]
    packages = _edges((imp.source.layer, imported, imp) for imp, imported in project
                      if imported is not None and imported not in DATA_PACKAGES)
    problems = _cycle_messages(packages, RULE_PACKAGE_CYCLE)
    for layer in (*LAYERS, ORCHESTRATION):
        inside = []
        for imp, imported in project:
            target = _module_of(imp.target, tree.modules)
            if imp.source.layer == layer and imported == layer and target is not None:
                inside.append((imp.source.module, target, imp))
        problems += _cycle_messages(_edges(inside), RULE_MODULE_CYCLE, layer=layer)
    return problems


def _justified(lines: list[str], first_line: int) -> bool:
    """A ``# long: <why>`` comment on ``first_line`` (1-based) or in the comment and decorator lines above it."""
    if LONG_REASON.search(lines[first_line - 1]):
        return True
    above = first_line - 2
    while above >= 0 and lines[above].lstrip().startswith(("#", "@")):
        if LONG_REASON.search(lines[above]):
            return True
        above -= 1
    return False


def size_violations(tree: Tree) -> list[str]:
    """Modules over 400 lines (unless a ``# long: <why>`` comment sits in their first 10 lines) and functions over
    60 lines (unless one sits on or above the ``def`` line, decorators included)."""
    problems = []
    for source in tree.files:
        if source.layer == FREE:
            continue
        lines = source.path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_MODULE_LINES and not any(LONG_REASON.search(line) for line in lines[:10]):
            problems.append(f"{source.relpath}:1: {source.module} has {len(lines)} lines: a module has at most "
                            f"{MAX_MODULE_LINES} lines unless a '# long: <why>' comment in its first 10 lines says why")
        for node in ast.walk(tree.syntax[source.relpath]):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.end_lineno is None:
                continue
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not _justified(lines, node.lineno):
                problems.append(f"{source.relpath}:{node.lineno}: {source.module}.{node.name} has {length} lines: a "
                                f"function has at most {MAX_FUNCTION_LINES} lines unless a '# long: <why>' comment "
                                "on or above its def line says why")
    return problems
