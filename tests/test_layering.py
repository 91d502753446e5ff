"""The package's import graph has no cycle (no module imports, directly or through others, a module that
imports it back), and the core headers never reach into the CUDA emulator (csrc/emu)."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Set

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pyaae"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> Set[str]:
    """The pyaae modules ``path`` imports at module level or in functions (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                found.add(f"{module}.{alias.name}")
            found.add(module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m == "pyaae" or m.startswith("pyaae.")}


def _graph() -> Dict[str, Set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        # An import of a name inside a module ("pyaae.priors.Gaussian") counts as the module's.
        targets = set()
        for imported in _imports(path, name):
            while imported and imported not in modules:
                imported = imported.rsplit(".", 1)[0] if "." in imported else ""
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One cycle of the graph, or []. A package importing its own submodules is not a loop (Python runs
    the package first); every other edge counts, imports inside functions included."""
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):
                continue  # a package's own submodules
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return []


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert _cycle(_graph()) == []


def test_core_sources_never_include_the_emulator() -> None:
    offenders = [str(p.relative_to(ROOT)) for folder in ("csrc/include", "csrc/cpu", "csrc/cuda")
                 for p in (ROOT / folder).rglob("*") if p.is_file()
                 and re.search(r'#include\s+["<](\.\./emu/)?simt\.h[">]', p.read_text())]
    assert offenders == []


def test_variant_names_are_compared_in_the_variant_table_only() -> None:
    from pyaae.models.variants import TABLE

    names = "|".join(TABLE)
    compared = re.compile(rf'(==|!=|\bin)\s*\(?\s*"({names})"|"({names})"\s*(==|!=)')
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in PACKAGE.rglob("*.py") if p.name != "variants.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1) if compared.search(line)]
    assert offenders == []
