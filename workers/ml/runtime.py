"""Process-level set-up shared by the ML entry points: CPU threads, device and dtype choice."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch


def available_cpus() -> int:
    """CPUs this process may run on (respects taskset/cgroup affinity, unlike ``os.cpu_count``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def auto_cpu_threads() -> int:
    """One thread per available CPU that other processes are not already keeping busy (at least 1).

    torch's OpenMP threads meet at a barrier after every operation, so one thread descheduled by a
    competing process stalls all of them: on a 2-core machine with a 1-minute load average of ~13, a
    small Llama's training step took 0.8 s with 1 thread and 6.8 s with 2. On an idle machine this is
    simply one thread per CPU.
    """
    cpus = available_cpus()
    try:
        busy = int(os.getloadavg()[0])
    except OSError:  # load average unavailable (e.g. some sandboxes)
        busy = 0
    return max(1, min(cpus, cpus - busy))


def configure_cpu_threads(num_threads: int = 0) -> int:
    """Set torch's intra-op threads to ``num_threads`` (0 = :func:`auto_cpu_threads`) and return it.

    Call it from entry points (``main()``, worker start-up), not from library functions, since it
    changes process-wide state.
    """
    n = num_threads if num_threads > 0 else auto_cpu_threads()
    torch.set_num_threads(n)
    return n


def pick_device(device: str | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(device: torch.device) -> torch.dtype:
    """bf16 on a CUDA device that supports it (half the memory, full speed), fp32 elsewhere.

    CPU bf16 matmuls are slower than fp32 on most CPUs without AMX, so CPU stays fp32.
    """
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


@contextmanager
def cpu_threads(num_threads: int = 0) -> Iterator[int]:
    """Run a block with ``num_threads`` torch threads (0 = :func:`auto_cpu_threads`), then restore.

    For self-contained heavy work inside a library call (building the tiny model) where changing the
    process-wide setting for good would surprise the caller.
    """
    previous = torch.get_num_threads()
    n = num_threads if num_threads > 0 else auto_cpu_threads()
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(previous)
