"""The artifact store: a directory (``PREFLOOP_ARTIFACT_DIR``) laid out by job.

    <root>/jobs/<job_id>/<relative path>

Writes are atomic (written under a temporary name in the same directory, then renamed), so a reader
or a crash never sees half a file; whole directories (checkpoints) are committed the same way.
Reads resolve paths strictly inside a job's folder: no ``..``, no absolute paths, no symlinks out.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from app.config import get_settings
from app.errors import InvalidInput, NotFound


def root() -> Path:
    path = get_settings().resolved_artifact_dir.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_dir(job_id: int) -> Path:
    return root() / "jobs" / str(int(job_id))


def safe_path(job_id: int, relative: str) -> Path:
    """The file for ``relative`` inside the job's folder, or an error if it would leave it."""
    base = job_dir(job_id).resolve()
    if not relative or relative.startswith(("/", "\\")) or "\x00" in relative:
        raise InvalidInput("Artifact paths are relative to the job's folder.", field="path")
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise InvalidInput("Artifact path leaves the job's folder.", field="path")
    return target


def write_bytes(job_id: int, relative: str, data: bytes) -> Path:
    target = safe_path(job_id, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def staging_dir(job_id: int, name: str) -> Path:
    """A private folder to write a directory artifact into before ``commit_dir``."""
    base = job_dir(job_id)
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=base, prefix=f".{name}.", suffix=".tmp"))


def commit_dir(job_id: int, staged: Path, relative: str) -> Path:
    """Move a fully written staging folder to its final name in one rename (replacing an older one)."""
    target = safe_path(job_id, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staged, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, target)
    return target


def list_files(job_id: int) -> Iterable[tuple[str, int]]:
    """(relative path, size) of every committed file of a job; staging files are hidden."""
    base = job_dir(job_id)
    if not base.exists():
        return []
    out = []
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            out.append((rel.as_posix(), path.stat().st_size))
    return out


def open_for_download(job_id: int, relative: str) -> Path:
    target = safe_path(job_id, relative)
    if not target.is_file() or any(
        part.startswith(".") for part in target.relative_to(job_dir(job_id).resolve()).parts
    ):
        raise NotFound(f"No artifact {relative!r} for job {job_id}.")
    return target
