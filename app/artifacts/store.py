"""The artifact store: a directory (``PREFLOOP_ARTIFACT_DIR``) laid out by job.

    <root>/jobs/<job_id>/<relative path>

Writes are atomic (written under a temporary name in the same directory, then renamed), so a reader
or a crash never sees half a file; whole directories (checkpoints) are committed the same way.
Reads resolve paths strictly inside a job's folder: no ``..``, no absolute paths, no symlinks out.
A write that finds the artifact disk full fails with :class:`ArtifactDiskFull`, which says so and where.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
    """A private folder to write a directory artifact into before ``commit_dir``.

    Staging folders of the same name that an earlier attempt of this job left behind (its worker was
    killed before it could commit or remove them) are removed first: a job runs one attempt at a time
    and a re-run writes its artifact from scratch, so they are garbage that would fill the disk.
    """
    base = job_dir(job_id)
    base.mkdir(parents=True, exist_ok=True)
    for stale in base.glob(f".{name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=base, prefix=f".{name}.", suffix=".tmp"))


LOW_SPACE_BYTES = 64 * 1024 * 1024
"""Below this much free space the artifact disk counts as full, whatever other disks have left."""


class ArtifactDiskFull(OSError):
    """The artifact disk ran out of space while an artifact was being written."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _out_of_space(exc: BaseException) -> bool:
    """ENOSPC, also when a library re-raised it as its own error (safetensors, pyarrow) with the OS
    error only in its message."""
    return any(
        (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "No space left on device" in str(e) for e in _chain(exc)
    )


def free_bytes(path: Path) -> int:
    """Space left for (unprivileged) writers on the disk holding ``path``."""
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def _artifact_disk_is_full(folder: Path, exc: BaseException) -> bool:
    """Whose is the out-of-space error: the artifact disk's when the file that failed is in the store, or
    (a library's error names no file) when that disk has the least room of those a job writes to: the
    store's and the temporary directory's (the same disk counts as the store's)."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno == errno.ENOSPC and isinstance(e.filename, str | bytes | os.PathLike):
            return Path(os.fsdecode(e.filename)).resolve().is_relative_to(root())
    temp = Path(tempfile.gettempdir())
    if folder.stat().st_dev == temp.stat().st_dev:
        return True
    here = free_bytes(folder)
    return here < LOW_SPACE_BYTES or here <= free_bytes(temp)


@contextmanager
def disk_full_reported(folder: Path, what: str) -> Iterator[None]:
    """Turn an out-of-space error of the artifact disk, raised while ``what`` is written into ``folder``
    (inside the store), into an :class:`ArtifactDiskFull` that says so and names the artifact directory.
    Any other error, a full temporary disk included, goes through unchanged."""
    try:
        yield
    except ArtifactDiskFull:
        raise
    except Exception as exc:
        if not _out_of_space(exc):
            raise
        try:
            target = folder if folder.exists() else root()
            ours, free = _artifact_disk_is_full(target, exc), free_bytes(target)
        except OSError:
            ours, free = False, 0
        if not ours:
            raise
        where = get_settings().resolved_artifact_dir
        raise ArtifactDiskFull(
            errno.ENOSPC,
            f"the artifact disk is full: No space left on device while writing {what} under {where} "
            f"({free} bytes free); free space there or set PREFLOOP_ARTIFACT_DIR to a larger disk "
            f"({type(exc).__name__}: {exc})",
        ) from exc


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
