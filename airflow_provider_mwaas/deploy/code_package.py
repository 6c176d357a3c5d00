"""A workflow's ``Code`` package: a local folder packed into a reproducible zip archive.

The same files give the same bytes on any machine and at any time (entries in sorted order, fixed
timestamps and permissions, fixed compression), so the archive's sha256 is a content address: the
deploy operator stores it at ``<prefix><workflow>/code/<sha256>.zip`` and uploads nothing when the
code did not change, exactly as for the definition (:mod:`.definition_store`).

Caches and VCS folders (``__pycache__``, ``*.pyc``, ``.git``...) are left out: they change without
the code changing. Pure standard library.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: The DOS epoch: the earliest time a zip entry can carry.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class CodePackage:
    """A packed folder.

    :param content: the zip archive's bytes.
    :param sha256: hex digest of ``content``.
    :param files: the archived paths, in archive order.
    """

    content: bytes
    sha256: str
    files: tuple[str, ...]


def package_folder(folder: Path) -> CodePackage:
    """Pack ``folder`` (recursively, paths relative to it) into a reproducible zip archive.

    :raises ValueError: ``folder`` is not a folder or holds no file.
    """
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    files = sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file()
        and not path.name.endswith(_SKIPPED_SUFFIXES)
        and not _SKIPPED_DIRS.intersection(path.relative_to(folder).parts[:-1])
    )
    if not files:
        raise ValueError(f"{folder} holds no file to package")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in files:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the packing machine
            archive.writestr(info, (folder / name).read_bytes(), compresslevel=9)
    content = buffer.getvalue()
    return CodePackage(content, hashlib.sha256(content).hexdigest(), tuple(files))
