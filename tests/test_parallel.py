"""ordered_map: worker processes, results in input order, bounded read-ahead."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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


KILLED_PARENT = """
import time
from litwatch.parallel import ordered_map
if __name__ == "__main__":
    results = ordered_map(time.sleep, [0, 600, 600], jobs=2)
    next(results)
    print("started", flush=True)
    time.sleep(600)
"""


def _workers_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = stat.with_name("cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended, its parent just did not reap it


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    """A parent killed outright shuts no pool down: its workers must not wait forever."""
    script = tmp_path / "parent.py"
    script.write_text(KILLED_PARENT, encoding="utf-8")
    command = [sys.executable, str(script)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            assert parent.stdout.readline().strip() == "started"
            workers = _workers_of(parent.pid)
            assert len(workers) == 2
        finally:
            parent.kill()
    deadline = time.monotonic() + 30  # a bound on the wait, not a speed target
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _running(pid)]
