"""Checks of where work happens (STYLE principle 8): the threads a request starts, and what
a module-level cache keeps across requests."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import types

from consult.db import Base


@contextlib.contextmanager
def threads_started():
    """The threads started inside the block, as a list filled in as they start; the rate
    limiter's expiry timers (``threading.Timer``) are not work and are left out."""
    started: list[threading.Thread] = []
    original = threading.Thread.start

    def start(thread, *args, **kwargs):
        if not isinstance(thread, threading.Timer):
            started.append(thread)
        return original(thread, *args, **kwargs)

    threading.Thread.start = start
    try:
        yield started
    finally:
        threading.Thread.start = original


def worker_threads() -> list[threading.Thread]:
    from consult.worker import THREAD_NAME

    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


def orm_objects_in(module: types.ModuleType) -> list[object]:
    """Every ORM instance reachable from the module's dict and list globals (its caches)."""
    found: list[object] = []
    seen: set[int] = set()

    def walk(value, depth=0):
        if id(value) in seen or depth > 8 or isinstance(value, (str, bytes, int, float, bool, type(None))):
            return
        seen.add(id(value))
        if isinstance(value, Base):
            found.append(value)
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key, depth + 1)
                walk(item, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                walk(item, depth + 1)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name), depth + 1)

    for name, value in vars(module).items():
        if not name.startswith("__") and isinstance(value, (dict, list)):
            walk(value)
    return found
