"""Helpers of scripts/test-matrix (stdlib only): check the built distributions, print the version x check table.

``check-dist DIST_DIR``: the wheel holds every subpackage of the source tree, ``py.typed`` and the
provider entry point, and an sdist sits beside it. ``table RESULTS_DIR [--readme README.md]``: read each
version's JUnit XML (``<version>.xml``), timings (``<version>.json``) and features, print the table, and
with ``--readme`` write it between the README's ``matrix-table`` markers. Exit 1 if any cell is red.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_provider_mwaas"
ENTRY_POINT = "provider_info = airflow_provider_mwaas.get_provider_info:get_provider_info"
START, END = "<!-- matrix-table:start -->", "<!-- matrix-table:end -->"


def check_dist(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"{init.parent.relative_to(ROOT).as_posix()}/__init__.py" for init in (ROOT / PACKAGE).rglob("__init__.py")
    }
    missing = sorted(expected - names)
    if f"{PACKAGE}/py.typed" not in names:
        missing.append(f"{PACKAGE}/py.typed")
    entry_points = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points[0]).decode() if entry_points else ""
    if "[apache_airflow_provider]" not in text or ENTRY_POINT not in text:
        missing.append(f"entry point [apache_airflow_provider] {ENTRY_POINT}")
    if missing:
        sys.exit(f"{wheel.name} lacks: {', '.join(missing)}")
    print(f"{wheel.name}: {len(expected)} packages, py.typed, entry point; sdist {sdist.name}")


def _cells(xml: Path) -> dict[str, str]:
    """Check name -> ``pass`` / ``FAIL: ...`` / ``skip: reason`` from one version's JUnit XML."""
    cells: dict[str, str] = {}
    if not xml.exists():
        return {"suite": "FAIL: no results (install or pytest did not run)"}
    for case in ET.parse(xml).iter("testcase"):  # noqa: S314  (pytest's own report, written by this script)
        name = re.sub(r"^test_", "", case.get("name", "").split("[")[0])
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        skipped = case.find("skipped")
        if problem is not None:
            cells[name] = "FAIL: " + _first_line(problem.get("message") or problem.text or "")
        elif skipped is not None:
            cells[name] = "skip: " + _first_line(skipped.get("message") or "")
        else:
            notes = [p.get("value", "") for p in case.iter("property") if p.get("name") == "note"]
            cells[name] = "pass" + "".join(f"; note: {note}" for note in notes)
    if not cells:  # a collection error leaves a testcase-less suite or one named after the module
        cells["suite"] = "FAIL: nothing collected (import error?)"
    return cells


def _first_line(text: str, limit: int = 90) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "?"
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def table(results: Path, readme: Path | None) -> int:
    versions = sorted((p.stem for p in results.glob("*.xml")), key=_version_key)
    versions += sorted((p.stem for p in results.glob("*.json") if p.stem not in versions), key=_version_key)
    by_version = {v: _cells(results / f"{v}.xml") for v in versions}
    checks: list[str] = []
    for cells in by_version.values():
        checks += [c for c in cells if c not in checks]
    lines = [
        "| Airflow | " + " | ".join(checks) + " | form fields | deferred on_kill | install | suite |",
        "|---|" + "---|" * (len(checks) + 4),
    ]
    failures: list[str] = []
    notes: list[str] = []
    for version in versions:
        meta = json.loads((results / f"{version}.json").read_text()) if (results / f"{version}.json").exists() else {}
        row = []
        for check in checks:
            cell = by_version[version].get(check, "-")
            if cell.startswith("FAIL"):
                failures.append(f"{version} {check}: {cell}")
                row.append("**FAIL**")
            elif cell.startswith("pass; note: "):
                notes.append(f"{version} {check}: {cell.removeprefix('pass; note: ')}")
                row.append(f"ok [{len(notes)}]")
            else:
                row.append({"pass": "ok"}.get(cell, cell))
        features = meta.get("features", {})
        row += [
            "declared" if features.get("CONN_FIELDS_SUPPORTED") else "in Extra JSON",
            "stops the run" if features.get("DEFERRED_ON_KILL_SUPPORTED") else "no (warns)",
            f"{meta.get('install_s', '?')} s",
            f"{meta.get('suite_s', '?')} s",
        ]
        lines.append(f"| {version} | " + " | ".join(row) + " |")
    lines += [""] + [f"[{n}] {note}" for n, note in enumerate(notes, 1)] if notes else []
    text = "\n".join(lines)
    print(text)
    for failure in failures:
        print(f"FAILED {failure}")
    if readme is not None and not failures:
        content = readme.read_text()
        head, rest = content.split(START, 1)
        _, tail = rest.split(END, 1)
        readme.write_text(f"{head}{START}\n{text}\n{END}{tail}")
        print(f"wrote the table into {readme}")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["check-dist"]:
        check_dist(Path(argv[1]))
        return 0
    if argv[:1] == ["table"]:
        readme = Path(argv[3]) if len(argv) > 3 and argv[2] == "--readme" else None
        return table(Path(argv[1]), readme)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
