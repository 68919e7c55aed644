"""Rendering: the golden text digest, safe markup, links, subject lines, header safety."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from digest_fixtures import (
    CLAIMS,
    SEND1,
    SEND2,
    WEEK1,
    add_search,
    article,
    seed_week1,
    seed_week2,
    tag_articles,
)
from sqlalchemy import Engine

from litwatch.config import DigestSettings, Settings
from litwatch.db import open_database
from litwatch.digest import render
from litwatch.digest_format import excerpt, registry_url, safe_markup
from litwatch.digest_model import Counts
from litwatch.digest_render import format_period, render_parts, summary_line
from litwatch.digest_select import select_digest
from litwatch.digest_send import plan_digest, send_digest
from litwatch.mailer import OutboxTransport
from litwatch.store import save_articles

GOLDEN = Path(__file__).parent / "golden"
WEEKLY = DigestSettings(recipients=("ana@example.org",))


@pytest.fixture
def sqlite_engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = open_database(f"sqlite:///{tmp_path / 'digest.db'}")
    yield engine
    engine.dispose()


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LITWATCH_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed (LITWATCH_UPDATE_GOLDEN=1)"


def test_golden_text_digests_for_two_weeks(sqlite_engine: Engine, tmp_path: Path) -> None:
    seed_week1(sqlite_engine)
    settings = Settings(outbox_dir=tmp_path, digests=(WEEKLY,))
    first = plan_digest(sqlite_engine, settings, now=SEND1, claims=CLAIMS).digest
    _check_golden("digest_week1.txt", render_parts(first).text)
    send_digest(
        sqlite_engine, settings, now=SEND1, claims=CLAIMS, transport=OutboxTransport(tmp_path)
    )
    seed_week2(sqlite_engine)
    second = plan_digest(sqlite_engine, settings, now=SEND2, claims=CLAIMS).digest
    rendered = render_parts(second)
    _check_golden("digest_week2.txt", rendered.text)
    assert rendered.subject == "litwatch: 1 new trial, 1 new paper, 3 updates (17–24 Nov 2026)"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [v for k, v in attrs if k == "href" and v]


def _parts(message: EmailMessage) -> tuple[str, str]:
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def test_html_links_point_where_they_should(sqlite_engine: Engine) -> None:
    seed_week1(sqlite_engine)
    with sqlite_engine.connect() as conn:
        digest = select_digest(conn, WEEKLY, now=SEND1, claims=CLAIMS)
    text, html = _parts(render(digest, sender="litwatch@example.org"))
    links = _Links()
    links.feed(html)
    for pmid in ("90000001", "90000002", "90000003", "90000004", "90000005", "90000006"):
        assert f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" in links.hrefs
        assert f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" in text
    assert "https://doi.org/10.1000/lit.2026.001" in links.hrefs
    assert "https://pmc.ncbi.nlm.nih.gov/articles/PMC9000001/" in links.hrefs
    assert "https://clinicaltrials.gov/study/NCT01234567" in links.hrefs
    assert "https://www.isrctn.com/ISRCTN12345678" in links.hrefs
    assert all(h.startswith("https://") for h in links.hrefs)
    # Email-safe layout: tables, no scripts or external styles.
    assert "table" in links.tags
    assert not links.tags & {"script", "link", "style", "iframe", "img"}
    # Inline markup survives in the title, the badge shows, the excerpt is the conclusion.
    assert "Low-dose <i>S</i>-ketamine" in html
    assert "RETRACTED" in html
    assert "Ketamine reduced pain at 12 weeks (<i>p</i> = 0.01)" in html
    assert "Follow-up continues" not in html  # at most three sentences


def test_hostile_titles_and_query_names_render_safely(sqlite_engine: Engine) -> None:
    hostile = article(
        "90000050",
        "<script>alert(1)</script> & a < b with in vivo evidence",
        # What the parser stores for that title, plus a raw tag it should never have kept.
        title_markup="&lt;script&gt;alert(1)&lt;/script&gt; &amp; a &lt; b with "
        '<i>in vivo</i> <script>steal()</script><a href="javascript:x()">evidence</a>',
    )
    save_articles(sqlite_engine, [hostile], now=WEEK1)
    tag_articles(sqlite_engine, [("90000050", "rct", True, ["NCT01234567"], [])], WEEK1)
    add_search(
        sqlite_engine,
        "evil\r\nBcc: attacker@example.org",
        WEEK1,
        count=1,
        new=1,
        pmids=["90000050"],
    )
    with sqlite_engine.connect() as conn:
        digest = select_digest(conn, WEEKLY, now=SEND1, claims=CLAIMS)
    message = render(digest, sender="litwatch@example.org")
    raw = message.as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert b"\nBcc:" not in raw
    text, html = _parts(message)
    assert "<script" not in html
    assert "javascript:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a &lt; b with <i>in vivo</i>" in html
    assert "evil Bcc: attacker@example.org" in html  # one line, shown as text
    assert "<script>alert(1)</script> & a < b with in vivo evidence" in text
    assert "evil Bcc: attacker@example.org" in text


def test_a_hostile_subject_template_cannot_add_a_header(sqlite_engine: Engine) -> None:
    seed_week1(sqlite_engine)
    settings = replace(WEEKLY, subject="litwatch {period}\r\nBcc: attacker@example.org")
    with sqlite_engine.connect() as conn:
        digest = select_digest(conn, settings, now=SEND1, claims=CLAIMS)
    parsed = message_from_bytes(render(digest).as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "litwatch 17 Nov 2026 Bcc: attacker@example.org"


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<i>in vivo</i> &amp; <b>bold</b>", "<i>in vivo</i> &amp; <b>bold</b>"),
        (
            "Ca<sup>2+</sup> and H<sub>2</sub>O, <u>u</u>",
            "Ca<sup>2+</sup> and H<sub>2</sub>O, <u>u</u>",
        ),
        ('<i class="x" onclick="y()">attrs dropped</i>', "<i>attrs dropped</i>"),
        ("<b>unclosed <i>nested", "<b>unclosed <i>nested</i></b>"),
        ("stray </i> closer", "stray  closer"),
        ("<span>other tags</span> <img src=x onerror=y>", "other tags "),
        ("raw & and < and >", "raw &amp; and &lt; and &gt;"),
    ],
)
def test_safe_markup_keeps_only_i_b_sup_sub_u(markup: str, expected: str) -> None:
    assert str(safe_markup(markup)) == expected


def test_excerpt_prefers_conclusions_and_keeps_it_short() -> None:
    label, text = excerpt(article("1", "t"))
    assert label == "From the abstract"
    assert text == "Patients improved. Larger trials are needed."
    empty = excerpt(article("1", "t", abstract=()))
    assert empty == ("", "")


@pytest.mark.parametrize(
    ("accession", "url"),
    [
        ("NCT01234567", "https://clinicaltrials.gov/study/NCT01234567"),
        ("ISRCTN12345678", "https://www.isrctn.com/ISRCTN12345678"),
        (
            "2019-001234-56",
            "https://www.clinicaltrialsregister.eu/ctr-search/search?query=2019-001234-56",
        ),
        ("ACTRN12619000123456", "https://www.anzctr.org.au/ACTRN12619000123456.aspx"),
        ("DRKS00012345", "https://drks.de/search/en/trial/DRKS00012345"),
        ("ChiCTR2000029308", "https://trialsearch.who.int/Trial2.aspx?TrialID=ChiCTR2000029308"),
        (
            "CTRI/2020/01/022000",
            "https://trialsearch.who.int/Trial2.aspx?TrialID=CTRI%2F2020%2F01%2F022000",
        ),
        ("not-a-registry", None),
    ],
)
def test_registry_numbers_link_to_their_registry(accession: str, url: str | None) -> None:
    assert registry_url(accession) == url


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ((2026, 11, 17), (2026, 11, 23), "17–23 Nov 2026"),
        ((2026, 11, 28), (2026, 12, 4), "28 Nov – 4 Dec 2026"),
        ((2026, 12, 28), (2027, 1, 3), "28 Dec 2026 – 3 Jan 2027"),
        ((2026, 11, 24), (2026, 11, 24), "24 Nov 2026"),
    ],
)
def test_period_format(
    start: tuple[int, int, int], end: tuple[int, int, int], expected: str
) -> None:
    assert format_period(datetime(*start, tzinfo=UTC), datetime(*end, tzinfo=UTC)) == expected


def test_subject_summary_counts_and_plurals() -> None:
    assert summary_line(Counts(2, 14, 0, 0, 0)) == "2 new trials, 14 new papers"
    assert summary_line(Counts(1, 1, 1, 1, 0)) == "1 new trial, 1 new paper, 1 update"
    assert summary_line(Counts(0, 0, 0, 0, 0)) == "nothing new"


def test_template_values_all_exist(sqlite_engine: Engine) -> None:
    """StrictUndefined: an empty digest renders (no loop variable is left undefined)."""
    with sqlite_engine.connect() as conn:
        digest = select_digest(conn, replace(WEEKLY, send_when="always"), now=SEND1)
    rendered = render_parts(digest)
    assert rendered.subject == "litwatch: nothing new (17 Nov 2026)"
    assert "no search ran in this period" in rendered.text
