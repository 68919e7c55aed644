"""ordered_map: worker processes, results in input order, bounded read-ahead."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from litwatch.parallel import available_cpus, ordered_map


def test_results_come_back_in_input_order() -> None:
    assert list(ordered_map(abs, range(-40, 0), jobs=2)) == list(range(40, 0, -1))


def test_an_empty_input_gives_nothing() -> None:
    assert list(ordered_map(abs, [], jobs=2)) == []


def test_input_is_read_only_a_window_ahead() -> None:
    pulled: list[int] = []

    def numbers() -> Iterator[int]:
        for n in range(1000):
            pulled.append(n)
            yield n

    results = ordered_map(abs, numbers(), jobs=2, ahead=3)
    assert next(results) == 0
    assert len(pulled) <= 4  # three in flight, one more once the first is taken
    results.close()
    assert len(pulled) <= 4


def test_an_error_is_raised_at_its_place_after_the_results_before_it() -> None:
    results = ordered_map(int, ["1", "2", "not a number", "4"], jobs=2)
    assert next(results) == 1
    assert next(results) == 2
    with pytest.raises(ValueError, match="not a number"):
        next(results)


def test_jobs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(ordered_map(abs, [1], jobs=0))


def test_available_cpus_is_at_least_one() -> None:
    assert available_cpus() >= 1


def test_workers_leave_ctrl_c_to_the_parent() -> None:
    """A terminal's SIGINT reaches every process of the group: workers ignore it, so
    only the parent decides how to stop (the scheduler lets a run finish)."""
    assert list(ordered_map(signal.getsignal, [signal.SIGINT], jobs=1)) == [signal.SIG_IGN]
