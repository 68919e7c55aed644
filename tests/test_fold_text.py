"""fold_text: the byte-table fast path folds exactly as Unicode normalisation + regex."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from litwatch.article import Article, fold_text
from litwatch.errors import InputError
from litwatch.resources import sample_corpus_dir
from litwatch.sources import find_input_files, read_records

_APOSTROPHES = re.compile("['\u2018\u2019\u02bc]")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def reference_fold(text: str) -> str:
    """The definition fold_text keeps: NFKD, ASCII only, lower case, words split on the rest."""
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text))
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return _NON_WORD.sub(" ", ascii_only).strip()


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Kétamine-induced  ANALGESIA!", "ketamine induced analgesia"),
        ("Writer's, writer\u2019s and writer\u02bcs", "writers writers and writers"),
        ("full\uff07width", "full width"),  # NFKD makes it a straight "'": a word break
        ("  \t(IL-6)\n", "il 6"),
        ("ﬁbre ①", "fibre 1"),
        ("αβ", ""),
        ("", ""),
    ],
)
def test_examples(text: str, folded: str) -> None:
    assert fold_text(text) == folded


def test_every_code_point_folds_as_the_reference() -> None:
    for code in range(0x3400):  # Latin, Greek, symbols, punctuation, full-width forms
        ch = chr(code)
        for text in (ch, f"Ab{ch}cD {ch}x", f"'{ch}'"):
            assert fold_text(text) == reference_fold(text), hex(code)
    for code in range(0xFF00, 0xFFF0):
        assert fold_text(f"a{chr(code)}b") == reference_fold(f"a{chr(code)}b"), hex(code)


def _texts(root: Path) -> list[str]:
    texts: list[str] = []
    for path in find_input_files([root]):
        try:
            for record in read_records(path):
                if isinstance(record, Article):
                    texts += [record.title, record.abstract_text, *record.keywords]
                    texts += [a.last_name or a.collective_name or "" for a in record.authors]
        except InputError:
            continue  # the deliberately broken fixtures
    return texts


def test_real_titles_and_abstracts_fold_as_the_reference(shared_fixtures: Path) -> None:
    texts = _texts(shared_fixtures / "real") + _texts(sample_corpus_dir())
    assert any(not t.isascii() for t in texts)
    assert any("'" in t for t in texts)
    for text in texts:
        assert fold_text(text) == reference_fold(text), text[:80]
