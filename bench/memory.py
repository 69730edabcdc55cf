"""Peak memory of a benchmark's processes (Linux)."""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path


def _hwm_kb(status: Path) -> int:
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def peak_mb() -> float:
    """This process's peak RSS. Linux's ru_maxrss outlives fork and exec (a child starts with its parent's
    peak, here the files just built); VmHWM belongs to the process's own memory, new at exec."""
    try:
        return _hwm_kb(Path("/proc/self/status")) / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildrenPeak:
    """The peak RSS (VmHWM) of each child process this one starts while the block runs (spawned
    workers: their ru_maxrss would start at this process's peak), sampled every ``interval`` s.
    ``each_mb`` is the largest child's, ``sum_mb`` all children's together."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        me = str(os.getpid())
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] != me:
                    continue
                self.peaks[int(entry.name)] = max(self.peaks.get(int(entry.name), 0), _hwm_kb(entry / "status"))
            except (OSError, IndexError, ValueError):
                continue

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def each_mb(self) -> float:
        return max(self.peaks.values(), default=0) / 1024

    @property
    def sum_mb(self) -> float:
        return sum(self.peaks.values()) / 1024
