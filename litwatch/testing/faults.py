"""Faults the stub injects on demand, as NCBI and the network really fail.

A plan is written as a spec string: ``"429:2,500:1,html:1"`` fails the next
two requests with 429, then one with 500, then one with the HTML block page,
in that order; ``"random:0.2,seed:7"`` fails each request with probability
0.2, the kind drawn from ``kinds`` (all by default), reproducibly for a seed.
``only:efetch`` (or ``only:esearch+epost``) limits the plan to endpoints.
"""

from __future__ import annotations

import random
import threading
from collections import deque

from ..errors import InputError

FAULT_KINDS = (
    "429",  # rate limited: NCBI's JSON body
    "500",
    "502",
    "503",
    "html",  # the "WWW Error Blocked Diagnostic" page, HTTP 200
    "text",  # plain "Unable to route request!", HTTP 200
    "backend",  # <ERROR>Search Backend failed ...</ERROR>, HTTP 200
    "empty",  # HTTP 200, no body
    "truncated",  # HTTP 200, the XML cut off half-way
    "slow",  # the answer comes after ``slow_seconds``
    "drop",  # the connection closes half-way through the body
)
_ALIASES = {"route": "text", "gateway": "text", "block": "html", "timeout": "slow"}
ENDPOINTS = ("esearch", "efetch", "epost")


class FaultPlan:
    """Which request gets which fault. Thread-safe; consumed as requests arrive."""

    def __init__(
        self,
        queue: list[str] | None = None,
        *,
        probability: float = 0.0,
        kinds: tuple[str, ...] = FAULT_KINDS,
        seed: int | None = None,
        only: frozenset[str] | None = None,
    ) -> None:
        for kind in (*(queue or []), *kinds):
            if kind not in FAULT_KINDS:
                raise InputError(
                    "faults", f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}"
                )
        if not 0.0 <= probability <= 1.0:
            raise InputError("faults", f"random probability must be 0..1, not {probability}")
        self._queue = deque(queue or [])
        self.probability = probability
        self.kinds = kinds
        self.seed = seed
        self.only = only
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: list[tuple[str, str]] = []  # (endpoint, kind), in order

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        queue: list[str] = []
        probability = 0.0
        seed: int | None = None
        kinds: tuple[str, ...] = FAULT_KINDS
        only: frozenset[str] | None = None
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, value = item.partition(":")
            name = _ALIASES.get(name.strip().lower(), name.strip().lower())
            value = value.strip()
            if not sep or not value:
                raise InputError("faults", f"{item!r}: expected name:value, e.g. 429:2")
            try:
                if name == "random":
                    probability = float(value)
                elif name == "seed":
                    seed = int(value)
                elif name == "kinds":
                    kinds = tuple(_ALIASES.get(k, k) for k in value.lower().split("+"))
                elif name == "only":
                    only = frozenset(value.lower().split("+"))
                    unknown = only - set(ENDPOINTS)
                    if unknown:
                        raise InputError("faults", f"only: unknown endpoint {sorted(unknown)[0]!r}")
                else:
                    queue.extend([name] * int(value))
            except ValueError:
                raise InputError("faults", f"{item!r}: {value!r} is not a number") from None
        return cls(queue, probability=probability, kinds=kinds, seed=seed, only=only)

    def next_fault(self, endpoint: str) -> str | None:
        """The fault for this request, or None to answer it properly."""
        if self.only is not None and endpoint not in self.only:
            return None
        with self._lock:
            kind: str | None = None
            if self._queue:
                kind = self._queue.popleft()
            elif self.probability and self._rng.random() < self.probability:
                kind = self._rng.choice(self.kinds)
            if kind is not None:
                self.injected.append((endpoint, kind))
            return kind

    @property
    def pending(self) -> int:
        """Counted faults not yet injected."""
        with self._lock:
            return len(self._queue)


def fault_plan(value: str | FaultPlan | None) -> FaultPlan:
    if isinstance(value, FaultPlan):
        return value
    return FaultPlan.parse(value or "")
