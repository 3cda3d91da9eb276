"""The engine's shape (issue 22): packages by layer, checked by import-linter in `make lint`
(pyproject's [tool.importlinter]); what that contract does not cover is checked here."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "converter"


def test_at_most_eight_modules_sit_at_the_top_of_the_engine() -> None:
    top = sorted(p.name for p in ENGINE.glob("*.py"))
    assert len(top) <= 8, top
    assert top == ["__init__.py", "__main__.py", "errors.py", "run_config.py"]


def test_no_two_engine_modules_share_a_name() -> None:
    names = Counter(p.name for p in ENGINE.rglob("*.py") if p.name != "__init__.py")
    assert [name for name, count in names.items() if count > 1] == []


def _cycles() -> list:
    """Strongly connected groups of modules (Tarjan) over every import, function-level ones too."""
    import grimp

    graph = grimp.build_graph("converter")
    index: dict = {}
    low: dict = {}
    stack: list = []
    on_stack: set = set()
    found: list = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_in_the_engine() -> None:
    assert _cycles() == []


def test_the_layer_contract_holds_and_catches_an_upward_import(tmp_path: Path) -> None:
    """lint-imports passes on the tree, and fails on a copy where a record imports the sweep."""
    root = ENGINE.parent
    lint = Path(sys.executable).with_name("lint-imports")
    kept = subprocess.run([str(lint), "--no-cache"], cwd=root, capture_output=True, text=True)
    assert kept.returncode == 0, kept.stdout[-3000:]
    copy = tmp_path / "tree"
    copy.mkdir()
    (copy / "pyproject.toml").write_text((root / "pyproject.toml").read_text())
    subprocess.run(["cp", "-r", str(ENGINE), str(copy / "converter")], check=True)
    stage = copy / "converter" / "records" / "stage.py"
    stage.write_text(stage.read_text() + "\nfrom converter.sweep import task  # noqa\n")
    broken = subprocess.run(
        [str(lint), "--no-cache"], cwd=copy, capture_output=True, text=True, env={"PYTHONPATH": str(copy)}
    )
    assert broken.returncode == 1, broken.stdout[-3000:]
    assert "converter.records.stage -> converter.sweep.task" in broken.stdout


def test_no_submodule_shadows_a_name_its_package_exports() -> None:
    """`from converter.diagnosis import diagnose` must get the function whatever was imported
    before: a submodule of the same name would replace it on the package once imported."""
    import ast

    clashes = []
    for init in ENGINE.rglob("__init__.py"):
        tree = ast.parse(init.read_text())
        exported = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        exported |= {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        submodules = {p.stem for p in init.parent.glob("*.py")} | {p.name for p in init.parent.iterdir() if p.is_dir()}
        clashes += [f"{init.parent.name}.{name}" for name in exported & submodules]
    assert clashes == []


def test_the_job_record_is_read_through_one_module() -> None:
    """result.json is written and read by converter.records.run_folder only (the child's pipeline, the
    launcher and the benchmark harness alike), through the typed record; tracking logs the file as
    it is, by its name."""
    repo = ENGINE.parent
    allowed = {"converter/records/run_folder.py", "converter/tracking/job_run.py"}
    sources = [*ENGINE.rglob("*.py"), *(repo / "benchmarks").rglob("*.py")]
    readers = sorted(
        str(path.relative_to(repo))
        for path in sources
        if str(path.relative_to(repo)) not in allowed
        and ("RESULT_FILE" in path.read_text() or '"result.json"' in path.read_text())
    )
    assert readers == []
