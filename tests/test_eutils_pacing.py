"""Pacing: NCBI's 3/s (10/s with a key) shared by every thread and client of a process."""

from __future__ import annotations

import threading

import pytest
import requests

from litwatch.config import EutilsSettings
from litwatch.eutils import EutilsClient, RateLimiter
from litwatch.eutils.pacing import SAFETY_MARGIN, default_rate, shared_limiter


class FrozenClock:
    """A clock that moves only when someone sleeps; sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)


def test_slots_are_spaced_by_the_interval() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    interval = SAFETY_MARGIN / 3.0
    assert waits == pytest.approx([0.0, interval, 2 * interval, 3 * interval, 4 * interval])
    assert interval > 1 / 3  # never faster than NCBI's limit


def test_threads_share_the_slots() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            wait = limiter.acquire()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 40 requests from 4 threads got 40 distinct slots, one interval apart.
    interval = SAFETY_MARGIN / 10.0
    assert sorted(waits) == pytest.approx([n * interval for n in range(40)])


def test_a_429_slows_the_pace_and_successes_win_it_back() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    base = limiter.interval
    limiter.penalise()
    assert limiter.interval == pytest.approx(2 * base)
    limiter.penalise()
    assert limiter.interval == pytest.approx(4 * base)
    for _ in range(200):
        limiter.succeeded()
    assert limiter.interval == pytest.approx(base)


def test_retry_after_holds_every_caller() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.penalise(retry_after=2.0)
    assert limiter.acquire() >= 2.0


def test_rates_follow_the_key() -> None:
    assert default_rate(None) == 3.0
    assert default_rate("abc") == 10.0
    with requests.Session() as session:
        keyless = EutilsClient(session, EutilsSettings(base_url="http://127.0.0.1:9/"))
        keyed = EutilsClient(session, EutilsSettings(base_url="http://127.0.0.1:9/", api_key="k"))
    assert keyless.rate == 3.0
    assert keyed.rate == 10.0


def test_clients_of_one_process_share_one_limiter() -> None:
    settings = EutilsSettings(base_url="http://127.0.0.1:9/entrez/eutils/")
    with requests.Session() as one, requests.Session() as two:
        first = EutilsClient(one, settings)
        second = EutilsClient(two, settings)
    assert first.limiter is second.limiter
    assert first.limiter is shared_limiter("127.0.0.1:9", None, 3.0)
    assert shared_limiter("127.0.0.1:9", "key", 10.0) is not first.limiter
