"""Date windows beyond PubMed's 9,999-id limit: split until every slice fits, each id once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import requests

from litwatch.config import EutilsSettings
from litwatch.errors import EutilsError
from litwatch.eutils import MAX_IDS, EutilsClient
from litwatch.testing.eutils_stub import EutilsStub
from litwatch.testing.stub_corpus import StubCorpus

FAST = (400.0, 400.0)
FIRST_PMID = 90_000_001


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def client_for(stub: EutilsStub, session: requests.Session) -> EutilsClient:
    return EutilsClient(session, EutilsSettings(base_url=stub.base_url), rate=300, backoff=0.01)


def test_25000_hits_come_back_exactly_once(session: requests.Session) -> None:
    start, end = date(2026, 1, 1), date(2026, 1, 10)

    def created(n: int) -> date:
        # 25,000 records over the window's 10 days, 2,500 a day; 200 more just outside it.
        if n < 25_000:
            return start + timedelta(days=n % 10)
        return start - timedelta(days=1) if n % 2 else end + timedelta(days=1)

    corpus = StubCorpus.synthetic(25_200, created=created)
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        window = client_for(stub, session).search_window("ketamine", "crdt", start, end)
        searches = stub.log_for("esearch")
    assert len(window.ids) == 25_000
    assert set(window.ids) == {str(FIRST_PMID + n) for n in range(25_000)}
    assert window.count == 25_000
    # Halving by days: 10 days (25,000) -> 5 + 5 (12,500 each) -> 3 + 2 + 3 + 2 days,
    # every one of those four slices under 9,999: 7 searches, 4 slices kept.
    assert (window.requests, window.slices) == (7, 4)
    assert len(searches) == 7
    assert all(r.params["term"].endswith("[crdt]") for r in searches)
    assert not any("Restrictions achieved" in w for w in window.warnings)


def test_window_bounds_are_inclusive(session: requests.Session) -> None:
    days = [date(2026, 2, 1) + timedelta(days=n) for n in range(5)]
    corpus = StubCorpus.synthetic(50, created=days)  # 10 records a day
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        window = client_for(stub, session).search_window("ketamine", "crdt", days[1], days[3])
    assert len(window.ids) == 30
    assert window.slices == 1
    assert window.requests == 1
    assert window.warnings == []


def test_an_empty_window_says_so_once(session: requests.Session) -> None:
    crowded = [date(2026, 2, 1), date(2026, 2, 2), date(2026, 2, 10)]
    corpus = StubCorpus.synthetic(18_000, created=crowded)  # 6,000 on each of three days
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        client = client_for(stub, session)
        # Halving 1-10 February reaches empty slices (3 February, 4-5 February).
        window = client.search_window("ketamine", "crdt", date(2026, 2, 1), date(2026, 2, 10))
        nothing = client.search_window("ketamine", "crdt", date(2026, 3, 1), date(2026, 3, 9))
    assert len(window.ids) == 18_000
    assert window.slices > 3  # empty slices included
    assert window.warnings == []
    assert nothing.ids == []
    assert nothing.warnings == ["OutputMessage: No items found."]


def test_a_crowded_mdat_day_is_split_by_create_date(session: requests.Session) -> None:
    # NCBI revises huge numbers of records on one day (the yearly MeSH reload).
    reload_day = date(2026, 1, 15)
    created = [date(2025, 1, 1) + timedelta(days=n) for n in range(300)]
    corpus = StubCorpus.synthetic(12_000, created=created, revised=reload_day)
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        window = client_for(stub, session).search_window("ketamine", "mdat", reload_day, reload_day)
        searches = stub.log_for("esearch")
    assert len(window.ids) == len(set(window.ids)) == 12_000
    assert window.slices >= 2
    assert {r.params["datetype"] for r in searches} == {"mdat"}
    assert any("[crdt]" in r.params["term"] for r in searches)


def test_more_than_9999_created_on_one_day_cannot_be_split(session: requests.Session) -> None:
    day = date(2026, 1, 1)
    corpus = StubCorpus.synthetic(MAX_IDS + 1, created=[day])
    with EutilsStub(corpus, rate_limit=FAST) as stub:
        client = client_for(stub, session)
        with pytest.raises(EutilsError, match="cannot be split further"):
            client.search_window("ketamine", "crdt", day, day)


def test_windows_are_checked(session: requests.Session) -> None:
    client = EutilsClient(session, EutilsSettings(base_url="http://127.0.0.1:9/"))
    with pytest.raises(ValueError, match="ends"):
        client.search_window("x", "crdt", date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(ValueError, match="crdt or mdat"):
        client.search_window("x", "edat", date(2026, 1, 1), date(2026, 1, 2))  # type: ignore[arg-type]
