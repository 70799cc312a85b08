"""The package's shape holds: import-linter's contracts in pyproject.toml (the layers, Qt-free
core, store, exports and network), and the renderer and reports never importing QtWidgets."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "prolo_planner"


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a test dependency"
    result = subprocess.run([exe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_the_layers_contract_names_every_package():
    """A new package outside the layers would be checked by nothing."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    layered = {name.strip() for layer in layers for name in layer.split("|")}
    packages = {f"prolo_planner.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    assert packages <= layered, packages - layered


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("package", ["render", "report"])
def test_render_and_report_paint_without_widgets(package):
    """They draw with QtGui for the screen and the exports alike; a QtWidgets import would tie
    every export to a windowing application."""
    offenders = {
        str(path.relative_to(REPO)): sorted(m for m in mods if m.startswith("PySide6.QtWidgets"))
        for path in (PACKAGE / package).rglob("*.py")
        if (mods := _imported_modules(path))
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_widget_import_check_sees_each_spelling(tmp_path):
    """The check above is only as good as its parser."""
    for line in (
        "from PySide6.QtWidgets import QApplication",
        "import PySide6.QtWidgets",
        "from PySide6 import QtWidgets",
        "def f():\n    from PySide6.QtWidgets import QWidget",
    ):
        (tmp_path / "m.py").write_text(line + "\n", encoding="utf-8")
        assert any(m.startswith("PySide6.QtWidgets") for m in _imported_modules(tmp_path / "m.py"))


def test_the_readme_layout_names_every_package():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :]
    layout = layout[: layout.index("```", layout.index("```") + 3)]
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert not {p for p in packages if f"  {p}/" not in layout}
