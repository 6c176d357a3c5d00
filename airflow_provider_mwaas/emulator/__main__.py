"""``python -m airflow_provider_mwaas.emulator --host 127.0.0.1 --port 0 --transitions time``."""

from __future__ import annotations

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
