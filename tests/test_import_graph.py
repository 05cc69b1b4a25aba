"""petgate's import graph, read from the source with `ast` (nothing is imported): no cycle among
petgate's modules, petgate/policy/ pure and layered, petgate/commands/ modules apart.

Every `import` and `from ... import` counts, at module level and inside functions and classes;
relative imports are resolved, and `from petgate import x` is an import of the module petgate.x
when x is a module (of the package petgate otherwise). Imports under `if TYPE_CHECKING:` are left
out: they never run, and are how a type-only dependency stays out of the runtime graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "petgate"
Graph = dict[str, dict[str, list[int]]]  # module -> imported module -> lines


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py")) if "__pycache__" not in p.parts}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, but those only a type checker runs."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports_in(child)
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node)


def _owning_module(dotted: str) -> str | None:
    """The petgate module `import dotted` runs last (a.b.c, else a.b, ...); None: not petgate's."""
    known = modules()
    while dotted:
        if dotted in known:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def _targets(name: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    known = modules()
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = _owning_module(alias.name)
            if target is not None:
                yield target
        return
    base = node.module or ""
    if node.level:
        package = name if modules()[name].name == "__init__.py" else name.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        target = submodule if submodule in known else _owning_module(base)
        if target is not None:
            yield target


@cache
def graph() -> Graph:
    edges: Graph = {}
    for name, path in modules().items():
        found = edges.setdefault(name, {})
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for target in _targets(name, node):
                if target != name:
                    found.setdefault(target, []).append(node.lineno)
    return edges


def cycles(edges: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as one cycle
    through it, starting at its first module in name order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, {})):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted((_cycle_through(c, edges) for c in components), key=lambda c: c[0])


def _cycle_through(component: list[str], edges: Graph) -> list[str]:
    """A shortest path from the component's first module back to it, inside the component."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges.get(node, {})):
                if target == start:
                    return paths[node] + [start]
                if target in members and target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{component} is not strongly connected")


def show(cycle: list[str]) -> str:
    edges = graph()
    return " -> ".join(
        f"{a} (line {edges[a][b][0]})" for a, b in zip(cycle, cycle[1:], strict=False)
    ) + f" -> {cycle[-1]}"


# --- the graph reader itself --------------------------------------------------------------------


def resolved(name: str, source: str) -> list[str]:
    return sorted({t for node in _imports(ast.parse(source)) for t in _targets(name, node)})


def test_the_reader_resolves_the_forms_petgate_uses() -> None:
    assert resolved("petgate.policy.deny", "from petgate.policy.model import statements") == ["petgate.policy.model"]
    assert resolved("petgate.lists", "from petgate import expiry, policy") == ["petgate.expiry", "petgate.policy"]
    assert resolved("petgate.lists", "from petgate.policy import parse_cidr") == ["petgate.policy"]
    assert resolved("petgate.lists", "from petgate.policy import allow as allowlists") == ["petgate.policy.allow"]
    assert resolved("petgate.lists", "from petgate import __version__") == ["petgate"]
    assert resolved("petgate.lists", "import petgate.policy.model\nimport json\nimport click") == ["petgate.policy.model"]
    relative = "from . import model\nfrom .model import statements\nfrom .. import expiry"
    assert resolved("petgate.policy.deny", relative) == ["petgate.expiry", "petgate.policy.model"]
    assert resolved("petgate.policy", "from . import allow") == ["petgate.policy.allow"], "in __init__.py `.` is the package"
    assert resolved("petgate.lists", "def f():\n    class C:\n        from petgate import expiry\n") == ["petgate.expiry"]
    only_typing = "if TYPE_CHECKING:\n    from petgate import expiry\nelse:\n    from petgate import policy\n"
    assert resolved("petgate.lists", only_typing) == ["petgate.policy"]


def test_the_cycle_finder() -> None:
    assert cycles({"a": {"b": [1]}, "b": {"c": [2]}, "c": {"a": [3], "d": [4]}, "d": {}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b": [1]}, "b": {"a": [1]}, "c": {"d": [1]}, "d": {"c": [1]}}) == [["a", "b", "a"], ["c", "d", "c"]]
    assert cycles({"a": {"b": [1]}, "b": {}}) == []


# --- no cycle -----------------------------------------------------------------------------------


def test_no_import_cycle_touches_petgate_policy() -> None:
    found = [c for c in cycles(graph()) if any(m == "petgate.policy" or m.startswith("petgate.policy.") for m in c)]
    assert not found, "import cycles through petgate.policy:\n" + "\n".join(show(c) for c in found)


# cycles allowed for now, each named with why (none: the last, control <-> importer, was broken by
# moving store_policy to petgate/local/stored_policy.py)
KNOWN_CYCLES: dict[frozenset[str], str] = {}


def test_no_import_cycle_but_the_known_ones() -> None:
    found = [c for c in cycles(graph()) if frozenset(c) not in KNOWN_CYCLES]
    assert not found, "new import cycles:\n" + "\n".join(show(c) for c in found)


def test_no_import_cycle_among_petgates_modules() -> None:
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(show(c) for c in found)


# --- petgate/policy/: pure, and layered ------------------------------------------------------------

POLICY_MAY_IMPORT = {
    "petgate.policy.model": {"petgate.expiry"},
    "petgate.policy.deny": {"petgate.policy.model", "petgate.expiry"},
    "petgate.policy.evaluate": {"petgate.policy.model", "petgate.expiry"},
    "petgate.policy.describe": {"petgate.policy.model", "petgate.policy.deny", "petgate.expiry"},
    # would_refuse asks the evaluator whether a list would lock its writer out
    "petgate.policy.allow": {"petgate.policy.model", "petgate.policy.evaluate", "petgate.expiry"},
    # Tables A and B over the evaluator's decisions (issue 18)
    "petgate.policy.authorization": {"petgate.policy.model", "petgate.policy.evaluate", "petgate.expiry"},
    # diff's comparison after AWS's rewrites (issue 20)
    "petgate.policy.normalise": {"petgate.policy.model", "petgate.expiry"},
}
# what a pure module may import from outside petgate: no click, boto3, requests, files or sockets
PURE_STDLIB = {"__future__", "collections", "copy", "dataclasses", "datetime", "functools", "ipaddress",
               "json", "re", "typing", "math", "fractions", "itertools", "enum"}


def policy_modules() -> list[str]:
    return [m for m in modules() if m == "petgate.policy" or m.startswith("petgate.policy.")]


def test_petgate_policy_imports_only_itself_and_expiry() -> None:
    outside = {
        name: sorted(t for t in graph()[name] if t != "petgate.expiry" and not t.startswith("petgate.policy"))
        for name in policy_modules()
    }
    assert not {k: v for k, v in outside.items() if v}, outside


def test_petgate_policy_modules_depend_one_way() -> None:
    assert set(policy_modules()) == set(POLICY_MAY_IMPORT) | {"petgate.policy"}, "a new module: give it its layer"
    wrong = {name: sorted(set(graph()[name]) - allowed) for name, allowed in POLICY_MAY_IMPORT.items()}
    assert not {k: v for k, v in wrong.items() if v}, wrong
    assert set(graph()["petgate.policy"]) <= set(POLICY_MAY_IMPORT), "the package imports only its modules"


def test_petgate_policy_imports_nothing_with_io() -> None:
    found: dict[str, set[str]] = {}
    for name in policy_modules():
        for node in _imports(ast.parse(modules()[name].read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue
            tops = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for top in (t.partition(".")[0] for t in tops):
                if top != "petgate" and top not in PURE_STDLIB:
                    found.setdefault(name, set()).add(top)
    assert not found, f"petgate/policy/ is pure: {found}"


# --- petgate/commands/: each command module on its own, sharing only common.py --------------------


def command_imports() -> dict[str, dict[str, list[int]]]:
    allowed = {"petgate.commands", "petgate.commands.common"}
    found = {}
    for name, targets in graph().items():
        if name.startswith("petgate.commands."):  # common.py too: it imports no command module
            bad = {t: lines for t, lines in targets.items() if t.startswith("petgate.commands.") and t not in allowed}
            if bad:
                found[name] = bad
    return found


def _describe_command_imports() -> str:
    found = command_imports()
    return "; ".join(f"{m} imports " + ", ".join(f"{t} (line {ls[0]})" for t, ls in sorted(ts.items()))
                     for m, ts in sorted(found.items())) or "none"


def test_command_modules_share_only_common() -> None:
    assert not command_imports(), _describe_command_imports()


# --- the CLI at the edge: no core module knows click or the CLI's App ----------------------------

CLI_SIDE = ("petgate.cli", "petgate.app", "petgate.entry", "petgate.__main__")


def external_imports(name: str) -> set[str]:
    """The top-level names of the modules `name` imports (click, boto3, ...), run-time imports only."""
    path = modules()[name]
    found: set[str] = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_no_core_module_imports_click_or_the_app() -> None:
    core = [m for m in modules() if not m.startswith(("petgate.commands",)) and m not in CLI_SIDE]
    offenders = sorted(m for m in core if "click" in external_imports(m) or "petgate.app" in graph()[m])
    assert not offenders, f"core modules that import click or petgate.app: {offenders}"
