"""Request pacing: NCBI allows 3 requests/s per IP, 10/s with an API key.

The limit is per IP or key, not per client object, so every client in the
process that talks to the same server with the same key shares one
``RateLimiter`` (``shared_limiter``). Slots are handed out in order under a
lock, so threads never burst past the limit together. A 429 from the server
slows the pace (``penalise``) and successes win the base rate back slowly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_RATE = 3.0  # requests per second without an API key
API_KEY_RATE = 10.0  # with one
# Spacing is stretched by this factor so jitter on the wire never lets four
# requests land inside one server-side second (Biopython uses 0.37 s for 3/s).
SAFETY_MARGIN = 1.1
MAX_SLOWDOWN = 8.0  # a 429 storm slows us to at most 1/8 of the base rate
RECOVERY_PER_SUCCESS = 0.9  # each success removes 10 % of the extra slowdown

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def default_rate(api_key: str | None) -> float:
    return API_KEY_RATE if api_key else DEFAULT_RATE


class RateLimiter:
    """Hands out request slots at most ``rate`` per second, across threads."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        margin: float = SAFETY_MARGIN,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate!r}")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._base_interval = margin / rate
        self._slowdown = 1.0
        self._next_slot = 0.0
        self._lock = threading.Lock()

    @property
    def interval(self) -> float:
        """Seconds between two requests at the current pace."""
        return self._base_interval * self._slowdown

    def acquire(self) -> float:
        """Wait for this caller's slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait

    def penalise(self, retry_after: float | None = None) -> None:
        """The server said 429: halve the pace and hold every thread for ``retry_after``."""
        with self._lock:
            self._slowdown = min(self._slowdown * 2.0, MAX_SLOWDOWN)
            if retry_after is not None:
                self._next_slot = max(self._next_slot, self._clock() + retry_after)

    def succeeded(self) -> None:
        with self._lock:
            self._slowdown = max(1.0, 1.0 + (self._slowdown - 1.0) * RECOVERY_PER_SUCCESS)


_shared: dict[tuple[str, str, float], RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(server: str, api_key: str | None, rate: float) -> RateLimiter:
    """The process-wide limiter for one server and key (real clock and sleep)."""
    key = (server, api_key or "", rate)
    with _shared_lock:
        limiter = _shared.get(key)
        if limiter is None:
            limiter = _shared[key] = RateLimiter(rate)
        return limiter
