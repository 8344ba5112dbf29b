"""The runner's layers, as docs/architecture.md lists them (between its `layers`
markers), hold in the code: no module imports one of a higher layer, and every module
is in exactly one layer. Imports inside functions count as much as those at the top."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "runner"
ARCHITECTURE = REPO / "docs" / "architecture.md"


def layers_in(document: str) -> list[tuple[str, list[str]]]:
    """(layer, module patterns), highest first, from the table between the markers:
    `| layer | modules | ... |` with the patterns in backticks."""
    table = document.split("<!-- layers -->", 1)[1].split("<!-- /layers -->", 1)[0]
    layers = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("**"):
            continue
        layers.append((cells[0].strip("*"), re.findall(r"`([\w.*]+)`", cells[1])))
    return layers


def module_name(path: Path) -> str:
    parts = list(path.relative_to(RUNNER).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, module: str) -> set[str]:
    """The project modules `module` (at `path`) imports, wherever in the file."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in ("ai_gate", "ai_gate_tools")}


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for top in ("ai_gate", "ai_gate_tools")
        for path in sorted((RUNNER / top).rglob("*.py"))
    }


def layer_of(name: str, layers: list[tuple[str, list[str]]]) -> list[int]:
    return [
        index
        for index, (_, patterns) in enumerate(layers)
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
    ]


def violations(
    layers: list[tuple[str, list[str]]], graph: dict[str, set[str]], known: set[str]
) -> list[str]:
    """Each import of a module of a higher layer (a smaller index), and each module in no
    layer or in several."""
    problems = []
    for name in sorted(graph):
        where = layer_of(name, layers)
        if len(where) != 1:
            problems.append(f"{name}: in {len(where)} layers")
            continue
        for target in sorted(graph[name] & known):
            target_layer = layer_of(target, layers)
            if target_layer and target_layer[0] < where[0]:
                problems.append(
                    f"{name} ({layers[where[0]][0]}) imports {target} "
                    f"({layers[target_layer[0]][0]})"
                )
    return problems


def test_no_module_imports_a_higher_layer() -> None:
    layers = layers_in(ARCHITECTURE.read_text())
    assert [name for name, _ in layers] == [
        "cli",
        "tooling",
        "application",
        "formatters",
        "domain",
        "foundation",
    ]
    found = modules()
    graph = {name: imported(path, name) for name, path in found.items()}
    assert len(graph) >= 60
    assert violations(layers, graph, set(found)) == []


def test_an_import_up_the_layers_is_found() -> None:
    layers = [("top", ["app.cli*"]), ("middle", ["app.domain*"]), ("bottom", ["app.base"])]
    graph = {
        "app.cli": {"app.domain.x"},
        "app.domain.x": {"app.base", "app.cli"},  # up: a violation
        "app.base": set(),
        "app.stray": set(),  # in no layer
    }
    known = set(graph) | {"app.domain.x"}
    assert violations(layers, graph, known) == [
        "app.domain.x (middle) imports app.cli (top)",
        "app.stray: in 0 layers",
    ]
