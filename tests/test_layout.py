"""The house: no import cycle among the project's modules, counting every import (module level,
inside functions, under TYPE_CHECKING), and a package import that loads nothing heavy."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# where each installed package's files lie in the checkout (pyproject's package-dir)
PACKAGES = {"ssti_hf": ROOT / "ssti_hf", "ssti_hf.dataset_builders": ROOT / "dataset_builders", "ssti_hf.metrics": ROOT / "metrics"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if package == "ssti_hf" and parts and parts[0] in ("dataset_builders", "metrics"):
                continue
            modules[".".join((package, *parts))] = path
    return modules


def imports(name: str, path: Path, modules: dict) -> set[str]:
    """The project modules that ``name`` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from X import y``: the module X.y where y is one, else X itself
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # import a.b.c of a project module a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def unresolved(name: str, path: Path, modules: dict) -> list[str]:
    """Relative imports that name no module of the project (a file moved without its importers)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    bad = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            anchor = package.split(".")
            base = ".".join(anchor[: len(anchor) - node.level + 1] + ([node.module] if node.module else []))
            if base not in modules:
                bad.append(f"{name}: from {'.' * node.level}{node.module or ''}")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_walker_sees_imports_inside_functions_and_finds_a_planted_cycle(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("def f():\n    from .b import g\n")
    b.write_text("from . import a\n")
    modules = {"p.a": a, "p.b": b}
    graph = {name: imports(name, path, modules) for name, path in modules.items()}
    assert graph == {"p.a": {"p.b"}, "p.b": {"p.a"}}
    assert cycles(graph) == [["p.a", "p.b"]]


def test_no_import_cycle_among_the_projects_modules():
    modules = project_modules()
    assert "ssti_hf.engine.stacked" in modules and "ssti_hf.dataset_builders.ssti" in modules
    graph = {name: imports(name, path, modules) for name, path in modules.items()}
    assert "ssti_hf.training.models" in graph["ssti_hf.engine.stacked"]  # the walker reads real imports
    assert cycles(graph) == []


def test_every_relative_import_names_a_project_module():
    modules = project_modules()
    assert [bad for name, path in modules.items() for bad in unresolved(name, path, modules)] == []


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, ssti_hf; ssti_hf.__version__; "
        "print(sorted(m for m in ('torch', 'transformers', 'peft', 'trl', 'datasets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves():
    import ssti_hf

    for name in ssti_hf.__all__:
        assert getattr(ssti_hf, name) is not None, name
