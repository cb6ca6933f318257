"""Architecture boundaries hold: services never import each other, decisions do no I/O."""

import subprocess
import sys
from pathlib import Path


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports)], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_every_package_type_checks() -> None:
    """mypy (pyproject.toml's [tool.mypy]: every package, untyped bodies checked) finds nothing:
    a rule called with the wrong command model, or a state that may be None, fails here."""
    mypy = Path(sys.executable).parent / "mypy"
    result = subprocess.run(
        [str(mypy)], capture_output=True, text=True, timeout=600, cwd=Path(__file__).parents[2]
    )
    assert result.returncode == 0, result.stdout + result.stderr
