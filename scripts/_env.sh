# Shared by scripts/test and scripts/demo: create .venv and install the project into it (idempotent).
# Sourced, not run. Uses constraints.txt: the exact versions CI tests (see README "Tested versions").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

# The "test" extra pulls in "emulator" and "openlineage" (the openlineage provider: tests/openlineage).
ensure_venv() {  # $1: the extras to install, e.g. "test" or "emulator"
  local extras="$1" stamp="$VENV/.installed-$1"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$PY" -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] || [ "$ROOT/constraints.txt" -nt "$stamp" ]; then
    echo "==> installing airflow-provider-mwaas[$extras] into $VENV (a minute on a fresh machine)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -c "$ROOT/constraints.txt" -e "$ROOT[$extras]"
    touch "$stamp"
  fi
}
