from __future__ import annotations

import threading
import time

import pytest

from checkswap.fleet.singleflight import SingleFlight


def test_callers_together_share_one_call_and_its_error() -> None:
    sf: SingleFlight[int] = SingleFlight()
    gate = threading.Event()
    results: list[object] = []

    def slow() -> int:
        gate.wait(5)
        raise ValueError("kernel file vanished")

    def caller() -> None:
        try:
            results.append(sf.do("k", slow))
        except ValueError as e:
            results.append(e)

    threads = [threading.Thread(target=caller) for _ in range(10)]
    for t in threads:
        t.start()
    # Until the nine others wait on the first: a fixed sleep was too short when loaded.
    end = time.monotonic() + 10
    while sf.shared < 9 and time.monotonic() < end:
        time.sleep(0.01)
    gate.set()
    for t in threads:
        t.join(5)
    assert sf.calls == 1 and sf.shared == 9
    assert len(results) == 10 and all(isinstance(r, ValueError) for r in results)
    # The next call runs again: a result (or error) is never cached.
    assert sf.do("k", lambda: 7) == 7 and sf.calls == 2


def test_different_keys_do_not_share() -> None:
    sf: SingleFlight[str] = SingleFlight()
    assert sf.do("a", lambda: "a") == "a"
    assert sf.do("b", lambda: "b") == "b"
    assert sf.calls == 2 and sf.shared == 0
    with pytest.raises(ZeroDivisionError):
        sf.do("a", lambda: str(1 / 0))
