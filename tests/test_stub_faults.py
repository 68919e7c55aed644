"""Fault plans: by count in order, or by seeded probability, limited to endpoints."""

from __future__ import annotations

import pytest

from litwatch.errors import InputError
from litwatch.testing.faults import FAULT_KINDS, FaultPlan


def draw(plan: FaultPlan, endpoint: str, n: int) -> list[str | None]:
    return [plan.next_fault(endpoint) for _ in range(n)]


def test_counted_faults_come_in_order_then_stop() -> None:
    plan = FaultPlan.parse("429:2,500:1,html:1,truncated:1,drop:1,slow:1")
    assert plan.pending == 7
    assert draw(plan, "efetch", 9) == [
        "429", "429", "500", "html", "truncated", "drop", "slow", None, None
    ]  # fmt: skip
    assert plan.injected[0] == ("efetch", "429")


def test_random_faults_repeat_for_a_seed() -> None:
    first = draw(FaultPlan.parse("random:0.2,seed:7"), "esearch", 500)
    again = draw(FaultPlan.parse("random:0.2,seed:7"), "esearch", 500)
    other = draw(FaultPlan.parse("random:0.2,seed:8"), "esearch", 500)
    assert first == again != other
    hits = [f for f in first if f is not None]
    assert 50 < len(hits) < 150
    assert set(hits) <= set(FAULT_KINDS)


def test_kinds_and_endpoints_narrow_the_plan() -> None:
    plan = FaultPlan.parse("random:1,seed:1,kinds:500+route,only:efetch+epost")
    assert draw(plan, "esearch", 5) == [None] * 5
    assert set(draw(plan, "efetch", 50)) == {"500", "text"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("teapot:1", "unknown fault 'teapot'"),
        ("429", "expected name:value"),
        ("429:x", "not a number"),
        ("random:2", "must be 0..1"),
        ("only:esummary", "unknown endpoint 'esummary'"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        FaultPlan.parse(spec)


def test_an_empty_spec_injects_nothing() -> None:
    assert draw(FaultPlan.parse(""), "esearch", 3) == [None] * 3
