"""The package's layout rules (docs/architecture.md): import contracts, and no module over ~300 lines.

The contracts live in pyproject's ``[tool.importlinter]`` and ``scripts/test`` runs ``lint-imports``; these
tests show that they hold on the tree and that they do fail on a violation (a contract that cannot fail
would check nothing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

import airflow_provider_mwaas

PACKAGE = Path(airflow_provider_mwaas.__file__).parent
ROOT = PACKAGE.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
#: "No module over about 300 lines" (the developers' guide).
MAX_MODULE_LINES = 300


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package under ``root``, with the project's contracts."""
    assert LINT_IMPORTS.exists(), "import-linter is not installed: scripts/test installs it (pyproject test extra)"
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_package(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / PACKAGE.name


def test_the_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        # the bottom layer reaching up to the hook
        ("service/run_states.py", "import airflow_provider_mwaas.hooks.mwaa_serverless", "Layers point down"),
        # a lower layer importing a higher one, lazily (inside a function) counts too
        (
            "watch/diagnostics.py",
            "def _late():\n    from airflow_provider_mwaas.triggers import mwaa_serverless",
            "Layers point down",
        ),
        # the emulator using product code other than the service layer
        ("emulator/faults.py", "from airflow_provider_mwaas.errors import InvalidParameterError", "The emulator"),
        # the provider importing the emulator
        ("hooks/base.py", "import airflow_provider_mwaas.emulator", "The provider never imports the emulator"),
        # the service layer importing Airflow
        ("service/error_kinds.py", "import airflow", "The service layer depends on botocore"),
    ],
)
def test_a_violation_breaks_the_contracts(tmp_path: Path, module: str, bad_import: str, contract: str) -> None:
    copy = _copy_package(tmp_path)
    path = copy / module
    path.write_text(path.read_text() + f"\n{bad_import}\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "Broken contracts" in result.stdout, result.stdout
    assert contract in result.stdout.split("Broken contracts", 1)[1], result.stdout
    assert f"airflow_provider_mwaas.{module[:-3].replace('/', '.')}" in result.stdout


def test_no_module_is_over_300_lines() -> None:
    sizes = {str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in sorted(PACKAGE.rglob("*.py"))}
    too_long = {path: lines for path, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines (split them by concern): {too_long}"


def test_deprecated_utils_paths_still_import_and_warn() -> None:
    code = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "try:\n"
        "    import airflow_provider_mwaas.utils.run_states\n"
        "except DeprecationWarning as w:\n"
        "    print('warned:', w)\n"
        "warnings.simplefilter('ignore', DeprecationWarning)\n"
        "from airflow_provider_mwaas.utils.service_model import validate_input, service_model\n"
        "from airflow_provider_mwaas.utils.errors import InvalidParameterError\n"
        "from airflow_provider_mwaas.errors import InvalidParameterError as New\n"
        "assert InvalidParameterError is New\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "warned: airflow_provider_mwaas.utils.run_states is deprecated" in result.stdout
    assert result.stdout.strip().endswith("ok")
