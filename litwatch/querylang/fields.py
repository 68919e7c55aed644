"""Every PubMed field tag, its long names and what it searches on a stored record.

PubMed accepts a field by its short tag (``[tiab]``), its full name
(``[Title/Abstract]``) or its internal E-utilities name (``[TIAB]``,
``[WORD]``, ``[PTYP]``), in any case. ``lookup`` maps any of them to one
``FieldSpec``; ``key`` is the canonical short tag written by ``to_query``.

``kind`` says how a term under the field is matched (see ``evaluate.py``);
``sources`` names the ``IndexedArticle`` texts a word search looks in.
[tiab] searches the title, the abstract and the author keywords, as PubMed's
own description of the field has it ("title, collection title, abstract,
other abstract and keywords").

Fields whose data a PubMed record (as litwatch stores it) does not carry
have kind ``"unsupported"``: their clauses parse, and evaluation ignores
them and says so in ``Matcher.caveats``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Texts of an IndexedArticle, by name (see indexed.py).
TITLE = "title"
ABSTRACT = "abstract"
KEYWORDS = "keywords"
MESH = "mesh"
PUBLICATION_TYPE = "publication_type"
SUBSTANCE = "substance"
JOURNAL = "journal"
AUTHOR = "author"
AFFILIATION = "affiliation"
VERNACULAR_TITLE = "vernacular_title"

# Untagged terms: what the brief (and a reader of PubMed's Text Word field) expects.
DEFAULT_SOURCES = (TITLE, ABSTRACT, MESH, KEYWORDS, PUBLICATION_TYPE, SUBSTANCE)
TEXT_WORD_SOURCES = DEFAULT_SOURCES
ALL_SOURCES = (
    *DEFAULT_SOURCES,
    JOURNAL,
    AUTHOR,
    AFFILIATION,
    VERNACULAR_TITLE,
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    key: str  # canonical short tag: "tiab"
    name: str  # PubMed's full name: "Title/Abstract"
    kind: str  # text, mesh, majr, subheading, pt, language, author, first_author,
    # last_author, full_author, journal, exact, date, subset, unsupported
    sources: tuple[str, ...] = ()  # texts searched by kind "text"
    aliases: tuple[str, ...] = ()
    proximity: bool = False  # [tiab:~N] allowed
    explodes: bool = False  # hierarchical: :noexp means something
    record_field: str = ""  # for kind exact / date: which value of the record
    note: str = ""  # for caveats: what a local evaluation cannot do


UNTAGGED = FieldSpec("", "All Fields (untagged)", "text", DEFAULT_SOURCES)

_SPECS = (
    FieldSpec("all", "All Fields", "text", ALL_SOURCES, ("all fields", "allfields")),
    FieldSpec(
        "tiab",
        "Title/Abstract",
        "text",
        (TITLE, ABSTRACT, KEYWORDS),
        ("title/abstract", "title abstract", "title/abstract words"),
        proximity=True,
    ),
    FieldSpec("ti", "Title", "text", (TITLE,), ("title", "titl"), proximity=True),
    FieldSpec("ab", "Abstract", "text", (ABSTRACT,), ("abstract",)),
    FieldSpec("tw", "Text Word", "text", TEXT_WORD_SOURCES, ("text word", "text words", "word")),
    FieldSpec("tt", "Transliterated Title", "text", (VERNACULAR_TITLE,), ("transliterated title",)),
    FieldSpec(
        "ot",
        "Other Term",
        "text",
        (KEYWORDS,),
        ("other term", "other terms", "otrm", "kw", "keyword", "keywords"),
    ),
    FieldSpec("ad", "Affiliation", "text", (AFFILIATION,), ("affiliation", "affl"), proximity=True),
    FieldSpec(
        "mh", "MeSH Terms", "mesh", aliases=("mesh", "mesh terms", "mesh term"), explodes=True
    ),
    FieldSpec("majr", "MeSH Major Topic", "majr", aliases=("mesh major topic",), explodes=True),
    FieldSpec(
        "sh",
        "MeSH Subheading",
        "subheading",
        aliases=("subheading", "subheadings", "mesh subheading", "mesh subheadings", "subh"),
        explodes=True,
    ),
    FieldSpec("pt", "Publication Type", "pt", aliases=("publication type", "ptyp"), explodes=True),
    FieldSpec("la", "Language", "language", aliases=("language", "lang")),
    FieldSpec("au", "Author", "author", aliases=("author", "auth", "authors")),
    FieldSpec(
        "1au",
        "First Author Name",
        "first_author",
        aliases=("first author name", "first author", "faut"),
    ),
    FieldSpec(
        "lastau",
        "Last Author Name",
        "last_author",
        aliases=("last author name", "last author", "laut"),
    ),
    FieldSpec("fau", "Full Author Name", "full_author", aliases=("full author name", "full")),
    FieldSpec("cn", "Corporate Author", "text", (AUTHOR,), ("corporate author", "coln")),
    FieldSpec("ta", "Journal", "journal", aliases=("journal", "jour", "journal title")),
    FieldSpec("is", "ISSN", "exact", aliases=("issn",), record_field="issn"),
    FieldSpec(
        "nm",
        "Substance Name",
        "substance",
        aliases=("substance name", "supplementary concept", "subs", "supplementary concepts"),
    ),
    FieldSpec("pmid", "PMID", "exact", aliases=("uid", "uids"), record_field="pmid"),
    FieldSpec(
        "aid", "Article Identifier", "exact", aliases=("article identifier",), record_field="ids"
    ),
    FieldSpec("doi", "DOI", "exact", record_field="doi"),
    FieldSpec("lid", "Location ID", "exact", aliases=("location id",), record_field="ids"),
    FieldSpec(
        "si", "Secondary Source ID", "exact", aliases=("secondary source id",), record_field="si"
    ),
    FieldSpec(
        "auid", "Author Identifier", "exact", aliases=("author identifier",), record_field="orcid"
    ),
    FieldSpec("vi", "Volume", "exact", aliases=("volume", "vol"), record_field="volume"),
    FieldSpec("ip", "Issue", "exact", aliases=("issue", "iss"), record_field="issue"),
    FieldSpec("pg", "Pagination", "exact", aliases=("pagination", "page"), record_field="pages"),
    FieldSpec(
        "dp",
        "Date - Publication",
        "date",
        aliases=("pdat", "date - publication", "publication date"),
        record_field="dp",
    ),
    FieldSpec(
        "crdt",
        "Date - Create",
        "date",
        aliases=("date - create", "create date"),
        record_field="crdt",
    ),
    FieldSpec(
        "edat",
        "Date - Entrez",
        "date",
        aliases=("date - entrez", "entrez date", "entry date"),
        record_field="edat",
    ),
    FieldSpec(
        "mhda", "Date - MeSH", "date", aliases=("date - mesh", "mesh date"), record_field="mhda"
    ),
    FieldSpec(
        "dcom",
        "Date - Completion",
        "date",
        aliases=("date - completion", "completion date", "cdat"),
        record_field="dcom",
    ),
    FieldSpec(
        "lr",
        "Date - Last Revision",
        "date",
        aliases=("date - last revision", "last revision date"),
        record_field="lr",
    ),
    FieldSpec(
        "mdat",
        "Date - Modification",
        "date",
        aliases=("date - modification", "modification date"),
        record_field="mdat",
    ),
    FieldSpec("sb", "Subset", "subset", aliases=("subset", "filter", "filt", "filters")),
    # Known to PubMed, but a stored record does not carry what they search.
    FieldSpec(
        "gr",
        "Grant Number",
        "unsupported",
        aliases=("grant number", "grnt", "grant"),
        note="grant numbers are not kept on a stored record",
    ),
    FieldSpec(
        "pa",
        "Pharmacological Action",
        "unsupported",
        aliases=("pharmacological action", "papx"),
        note="pharmacological actions come from the MeSH database, not the record",
    ),
    FieldSpec(
        "rn",
        "EC/RN Number",
        "unsupported",
        aliases=("ec/rn number", "ecno"),
        note="registry numbers of substances are not kept on a stored record",
    ),
    FieldSpec(
        "ir",
        "Investigator",
        "unsupported",
        aliases=("investigator", "invr"),
        note="investigators are not kept on a stored record",
    ),
    FieldSpec(
        "fir",
        "Full Investigator Name",
        "unsupported",
        aliases=("full investigator name", "finv"),
        note="investigators are not kept on a stored record",
    ),
    FieldSpec(
        "ps",
        "Personal Name as Subject",
        "unsupported",
        aliases=("personal name as subject",),
        note="personal names as subject are not kept on a stored record",
    ),
    FieldSpec(
        "pl",
        "Place of Publication",
        "unsupported",
        aliases=("place of publication", "cnty"),
        note="the place of publication is not kept on a stored record",
    ),
    FieldSpec(
        "jid",
        "NLM Unique ID",
        "unsupported",
        aliases=("nlm unique id",),
        note="the journal's NLM ID is not kept on a stored record",
    ),
    FieldSpec(
        "cois",
        "Conflict of Interest Statement",
        "unsupported",
        aliases=("conflict of interest statement",),
        note="conflict of interest statements are not kept on a stored record",
    ),
    FieldSpec(
        "pubn",
        "Publisher",
        "unsupported",
        aliases=("publisher",),
        note="the publisher is not kept on a stored record",
    ),
    FieldSpec("book", "Book", "unsupported", note="book metadata is not kept on a stored record"),
    FieldSpec(
        "ed",
        "Editor",
        "unsupported",
        aliases=("editor",),
        note="editors are not kept on a stored record",
    ),
    FieldSpec("isbn", "ISBN", "unsupported", note="ISBNs are not kept on a stored record"),
    FieldSpec(
        "epdat",
        "Date - Electronic Publication",
        "unsupported",
        aliases=("date - electronic publication", "epdt"),
        note="the electronic publication date is not kept apart on a stored record",
    ),
    FieldSpec(
        "ppdat",
        "Date - Print Publication",
        "unsupported",
        aliases=("date - print publication", "ppdt"),
        note="the print publication date is not kept apart on a stored record",
    ),
    FieldSpec(
        "pid",
        "Publisher ID",
        "unsupported",
        aliases=("publisher id",),
        note="publisher ids are not kept apart on a stored record",
    ),
)

_BY_NAME: dict[str, FieldSpec] = {}
for _spec in _SPECS:
    for _name in (_spec.key, _spec.name.lower(), *_spec.aliases):
        _BY_NAME[_name] = _spec

_SPACES = re.compile(r"\s+")


def normalise_tag_name(name: str) -> str:
    """``" MeSH  Terms "`` -> ``"mesh terms"``; ``"Date-Create"`` -> ``"date - create"``."""
    name = _SPACES.sub(" ", name.strip().lower())
    return re.sub(r"\s*-\s*(?=[a-z])", " - ", name) if name.startswith("date") else name


def lookup(name: str) -> FieldSpec | None:
    """The field a tag names (short, long or internal form), or None when PubMed has none."""
    return _BY_NAME.get(normalise_tag_name(name))


def by_key(key: str) -> FieldSpec:
    return UNTAGGED if key == "" else _BY_NAME[key]


def all_specs() -> tuple[FieldSpec, ...]:
    return _SPECS
