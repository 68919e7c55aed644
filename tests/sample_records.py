"""The bundled sample corpus, parsed once per test session, and its hand-written expectations."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from litwatch.article import Article
from litwatch.resources import sample_corpus_dir
from litwatch.sources import read_records

EXPECTATIONS = Path(__file__).resolve().parent / "data" / "sample_expectations.toml"


def corpus_files() -> list[Path]:
    """First versions (the weekly files and the real records), then the later versions by date."""
    root = sample_corpus_dir()
    return sorted(root.glob("*.xml")) + sorted((root / "updates").glob("*.xml"))


@cache
def all_records() -> tuple[Article, ...]:
    return tuple(
        record
        for path in corpus_files()
        for record in read_records(path)
        if isinstance(record, Article)
    )


def first_versions() -> dict[str, Article]:
    found: dict[str, Article] = {}
    for article in all_records():
        found.setdefault(article.pmid, article)
    return found


def latest_versions() -> dict[str, Article]:
    found: dict[str, Article] = {}
    for article in all_records():
        before = found.get(article.pmid)
        if before is None or (article.modified or before.modified) >= (
            before.modified or article.modified
        ):
            found[article.pmid] = article
    return found


@cache
def expectations() -> dict[str, Any]:
    return tomllib.loads(EXPECTATIONS.read_text(encoding="utf-8"))
