"""Saved query files: defaults, the shipped queries, and one ``file:line: message`` per problem."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from litwatch.errors import ConfigError
from litwatch.queries import (
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_START_DATE,
    describe,
    load_queries,
    query_files,
)
from litwatch.querylang import parse
from litwatch.resources import bundled_dir

SHIPPED = bundled_dir("queries")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_queries_load_without_problems() -> None:
    folder = load_queries(SHIPPED)
    assert [str(p) for p in folder.problems] == []
    assert [q.name for q in folder.queries] == [
        "ketamine-crps",
        "ketamine-focal-dystonia",
        "nmda-movement-disorders",
        "nmda-neurorehabilitation",
    ]
    for query in folder.queries:
        assert query.enabled
        assert query.title
        assert "\n" not in query.term_sent
        parse(query.term_sent)  # what is sent parses as well as what is written
        assert len(query.content_hash) == 64


def test_defaults_and_folding(tmp_path: Path) -> None:
    write(
        tmp_path,
        "writers-cramp.toml",
        "term = '''\n  ketamin*[tiab]\n  AND   \"writer's cramp\"[tiab]\n'''\n",
    )
    write(tmp_path, "claims.toml", "this is not a query = [")  # the claim catalogue: skipped
    folder = load_queries(tmp_path)
    assert folder.problems == []
    (query,) = folder.queries
    assert query.name == "writers-cramp"  # the file stem
    assert query.term_sent == 'ketamin*[tiab] AND "writer\'s cramp"[tiab]'
    assert (query.schedule, query.lookback_days, query.start_date, query.enabled) == (
        "weekly",
        DEFAULT_LOOKBACK_DAYS,
        DEFAULT_START_DATE,
        True,
    )
    assert describe(query)["term"] == query.term_sent
    assert folder.by_name("writers-cramp") is query
    with pytest.raises(ConfigError, match="no saved query of that name"):
        folder.by_name("nope")


def test_every_setting(tmp_path: Path) -> None:
    write(
        tmp_path,
        "crps.toml",
        """
name = "ketamine-crps-recent"
title = "Ketamine in CRPS"
description = "Infusion trials."
term = "ketamin*[tiab] AND CRPS[tiab]"
schedule = "17 6 * * 1-5"
lookback_days = 10
start_date = 2015-06-01
tags = ["crps", "pain"]
enabled = false
""",
    )
    (query,) = load_queries(tmp_path).queries
    assert describe(query) == {
        "name": "ketamine-crps-recent",
        "title": "Ketamine in CRPS",
        "file": str(tmp_path / "crps.toml"),
        "schedule": "17 6 * * 1-5",
        "lookback_days": 10,
        "start_date": "2015-06-01",
        "enabled": False,
        "tags": ["crps", "pain"],
        "term": "ketamin*[tiab] AND CRPS[tiab]",
        "content_hash": query.content_hash,
    }
    assert query.start_date == date(2015, 6, 1)


BROKEN = {
    "bad-toml.toml": ('title = "x"\nterm = "ketamine[tiab]\n', 2, "TOML: "),
    "unknown-key.toml": (
        'term = "ketamine[tiab]"\nshedule = "daily"\n',
        2,
        "unknown key 'shedule'",
    ),
    "unbalanced.toml": (
        "title = 'Unbalanced'\nterm = '''\n"
        "(ketamine[tiab] OR esketamine[tiab]\nAND dystonia[tiab]\n'''\n",
        3,
        "term: unbalanced parenthesis",
    ),
    "bad-cron.toml": (
        'term = "ketamine[tiab]"\nschedule = "61 * * * *"\n',
        2,
        "bad cron expression '61 * * * *'",
    ),
    "not-cron.toml": (
        'term = "ketamine[tiab]"\nschedule = "fortnightly"\n',
        2,
        "schedule 'fortnightly' is neither",
    ),
    "unknown-tag.toml": (
        'term = "ketamine[tiab] AND dystonia[xyz]"\n',
        1,
        "term: unknown field tag",
    ),
    "bad-values.toml": (
        'term = "ketamine[tiab]"\n\nlookback_days = -2\n',
        3,
        "lookback_days must be",
    ),
    "no-term.toml": ('title = "no term"\nterm = ""\n', 2, "term is required"),
    "z-dup.toml": (
        '# the same name again\nname = "ketamine-ok"\nterm = "x[tiab]"\n',
        2,
        "duplicate",
    ),
}


def test_each_broken_file_gives_one_problem_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "ketamine-ok.toml", 'term = "ketamine[tiab]"\n')
    for name, (text, _line, _message) in BROKEN.items():
        write(tmp_path, name, text)
    folder = load_queries(tmp_path)
    assert [q.name for q in folder.queries] == ["ketamine-ok"]
    rendered = sorted(str(p) for p in folder.problems)
    assert len(rendered) == len(BROKEN)
    for name, (_text, line, message) in BROKEN.items():
        (problem,) = [p for p in rendered if p.startswith(f"{tmp_path / name}:")]
        assert problem.startswith(f"{tmp_path / name}:{line}:")
        assert message in problem
    (unbalanced,) = [p for p in folder.problems if p.source.endswith("unbalanced.toml")]
    assert (unbalanced.line, unbalanced.column) == (3, 1)  # at the '(' left open
    (tag,) = [p for p in folder.problems if p.source.endswith("unknown-tag.toml")]
    assert tag.column == 'term = "ketamine[tiab] AND dystonia[xyz]"'.index("[xyz]") + 1
    assert "z-dup.toml:2: duplicate query name 'ketamine-ok' (also in ketamine-ok.toml)" in str(
        [str(p) for p in folder.problems]
    )


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="queries folder not found"):
        query_files(tmp_path / "nope")


def test_a_duplicate_name_is_the_fault_of_the_file_that_sets_it(tmp_path: Path) -> None:
    # The file named after the query sorts later; the explicit name is still the one in error.
    write(tmp_path, "a-copy.toml", '# my variant\nname = "writers-cramp"\nterm = "x[tiab]"\n')
    write(tmp_path, "writers-cramp.toml", 'term = "ketamine[tiab]"\n')
    folder = load_queries(tmp_path)
    assert [(q.name, q.path.name) for q in folder.queries] == [
        ("writers-cramp", "writers-cramp.toml")
    ]
    (problem,) = folder.problems
    assert str(problem) == (
        f"{tmp_path / 'a-copy.toml'}:2: duplicate query name 'writers-cramp' "
        "(also in writers-cramp.toml)"
    )


def test_two_files_setting_the_same_name_keep_the_first(tmp_path: Path) -> None:
    write(tmp_path, "one.toml", 'name = "same"\nterm = "x[tiab]"\n')
    write(tmp_path, "two.toml", 'term = "y[tiab]"\nname = "same"\n')
    folder = load_queries(tmp_path)
    assert [q.path.name for q in folder.queries] == ["one.toml"]
    (problem,) = folder.problems
    assert (
        str(problem) == f"{tmp_path / 'two.toml'}:2: duplicate query name 'same' (also in one.toml)"
    )
