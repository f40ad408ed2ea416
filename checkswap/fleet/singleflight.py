"""Calls that arrive while an identical call is running wait for it and share its result.

``serve`` renders every scrape through this, so fifty scrapers arriving together cost one read of
the kernel and one rendering, not fifty (the idea of Go's golang.org/x/sync/singleflight).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class _Call(Generic[T]):
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Hashable, _Call[T]] = {}
        self.calls = 0  # how many times fn actually ran (for tests and self-metrics)
        self.shared = 0  # how many callers got another caller's result

    def do(self, key: Hashable, fn: Callable[[], T]) -> T:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
                self.calls += 1
            else:
                self.shared += 1
        if leader:
            try:
                call.value = fn()
            except BaseException as e:
                call.error = e
            finally:
                with self._lock:
                    del self._calls[key]
                call.done.set()
        else:
            call.done.wait()
        if call.error is not None:
            raise call.error
        return call.value  # type: ignore[return-value]
