"""Evaluating queries on records: matching rules, every field, caveats, explanations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from litwatch.article import (
    AbstractSection,
    Article,
    Author,
    MeshHeading,
    PartialDate,
    PublicationType,
    Qualifier,
    RegistryId,
)
from litwatch.querylang import Hit, IndexedArticle, compile_query, parse

ARTICLE = Article(
    pmid="31415926",
    status="MEDLINE",
    title="Ketamine for Writer’s Cramp: a randomised, placebo-controlled trial in Köln",
    abstract=(
        AbstractSection(
            "Focal hand dystonia (FHD) impairs fine motor control. TGF-β signalling and "
            "NMDA-receptor blockade were studied.",
            "",
            label="BACKGROUND",
        ),
        AbstractSection(
            "Twenty patients received esketamine or saline in a day-case setting; motor "
            "cortex plasticity was assessed—with MEPs—at 24 h.",
            "",
            label="METHODS",
        ),
    ),
    journal_title="Movement disorders : official journal of the Movement Disorder Society",
    journal_iso="Mov Disord",
    issn="0885-3185",
    volume="39",
    issue="4",
    pages="712-20",
    pub_date=PartialDate("2024 Apr", 2024, 4),
    authors=(
        Author("Müller", "Anna", "A", affiliations=("Department of Neurology, Universität Köln",)),
        Author("O'Brien", "John Carl", "JC", orcid="https://orcid.org/0000-0002-1825-0097"),
        Author(collective_name="Dystonia Study Group"),
        Author("Smith", "Jane", "J"),
    ),
    languages=("eng",),
    publication_types=(
        PublicationType("Journal Article"),
        PublicationType("Randomized Controlled Trial"),
    ),
    mesh=(
        MeshHeading("Dystonic Disorders", major=True, qualifiers=(Qualifier("drug therapy"),)),
        MeshHeading(
            "Ketamine",
            qualifiers=(
                Qualifier("administration & dosage", major=True),
                Qualifier("therapeutic use"),
            ),
        ),
        MeshHeading("Humans"),
        MeshHeading("Motor Cortex", qualifiers=(Qualifier("physiopathology"),)),
        MeshHeading("Anti-Bacterial Agents"),
    ),
    keywords=("writer's cramp", "NMDA antagonist"),
    chemicals=("Ketamine", "Excitatory Amino Acid Antagonists"),
    doi="10.1002/MDS.29999",
    pmcid="PMC1234567",
    registry_ids=(RegistryId("ClinicalTrials.gov", "NCT02149199"),),
    history={"entrez": date(2024, 2, 10), "pubmed": date(2024, 2, 11), "medline": date(2024, 5, 1)},
    date_completed=date(2024, 5, 2),
    date_revised=date(2024, 6, 30),
)
DOC = IndexedArticle.from_article(ARTICLE)


def matches(query: str, doc: IndexedArticle = DOC) -> bool:
    return compile_query(query).matches(doc)


CASES = [
    # words on word boundaries, case-insensitive
    ("ketamine[ti]", True),
    ("KETAMINE[TI]", True),
    ("ketamin[ti]", False),  # not a word of the title
    ("dystonia[tiab]", True),
    ("dyston[tiab]", False),
    ("cortex[ab]", True),
    ("cortex[ti]", False),
    # truncation, also in phrases and quotes
    ("randomi*[tiab]", True),
    ("esketamin*", True),
    ('"motor cort*"[tiab]', True),
    ('"motor cort*" AND "fine mot*"[ab]', True),
    ("plac*bo[tiab]", True),  # * inside a word
    # phrases: words in order, next to each other
    ('"focal hand dystonia"[tiab]', True),
    ('"hand focal dystonia"[tiab]', False),
    ('"focal dystonia"[tiab]', False),
    ("fine motor control[tiab]", True),  # an unquoted run before a tag is a phrase
    ("motor fine[tiab]", False),
    ("fine control", True),  # untagged words stand alone (AND)
    # accents, apostrophes, hyphens, dashes, Greek
    ("koln[ti]", True),
    ("Köln[ti]", True),
    ("muller[au]", True),
    ('"writer\'s cramp"[ti]', True),
    ('"writers cramp"[ti]', True),
    ("placebo controlled[ti]", True),
    ("placebo-controlled[ti]", True),
    ("placebocontrolled[ti]", False),
    ("day-case[ab]", True),
    ("NMDA receptor blockade[ab]", True),
    ("daycase[ab]", False),  # documented: the joined form in a query finds only itself
    ("tgf-beta[ab]", True),  # β is spelt out
    ("mep*[ab]", True),  # "assessed—with MEPs—at": an em dash separates words
    ("assessedwith[ab]", False),
    # untagged: title, abstract, MeSH, keywords, publication types, substance names
    ("excitatory amino acid antagonists", True),
    ("randomized controlled trial", True),
    ("physiopathology", True),
    ("antagonist", True),  # keyword
    ("official", False),  # the journal is not searched by untagged terms ...
    ("official[all]", True),  # ... but is by [all]
    ("smith", False),
    ("smith[all]", True),
    # [tiab] includes author keywords, as PubMed defines it (title, abstract, other terms)
    ("antagonist[tiab]", True),
    ("antagonist[ti] OR antagonist[ab]", False),
    ("antagonist[ot]", True),
    ('"cramp nmda"[ot]', False),  # a phrase never runs from one keyword into the next
    # MeSH: exact (folded) headings, qualifiers, major topics
    ("dystonic disorders[mh]", True),
    ("dystonic[mh]", False),
    ("dystonic*[mh]", True),
    ('"Ketamine/administration and dosage"[mh]', True),
    ("Ketamine/ad[mh]", True),
    ("Ketamine/tu[mh]", True),
    ("Ketamine/pd[mh]", False),
    ("Ketamine[majr]", True),  # a starred qualifier makes the heading major
    ("Ketamine/tu[majr]", False),
    ("Ketamine/ad[majr]", True),
    ("Humans[majr]", False),
    ("Dystonic Disorders/drug therapy[majr]", True),  # the descriptor is starred
    ("drug therapy[sh]", True),
    ("dt[sh]", True),
    ("antibacterial agents[mh]", True),  # hyphens do not matter in headings either
    ('"anti bacterial agents"[mh]', True),
    ("bacterial agents[mh]", False),
    ("statistics and numerical data[sh]", False),
    ("administration and dosage[sh:noexp]", True),
    # publication types, with the clinical-trial branch exploded
    ("randomized controlled trial[pt]", True),
    ("clinical trial[pt]", True),
    ("clinical trial[pt:noexp]", False),
    ("review[pt]", False),
    ("journal art*[pt]", True),
    # language, journal, substances
    ("english[la]", True),
    ("eng[la]", True),
    ("french[la]", False),
    ("Mov Disord[ta]", True),
    ("mov disord[jour]", True),
    ("Movement disorders : official journal of the Movement Disorder Society[ta]", True),
    ("0885-3185[ta]", True),
    ("Mov[ta]", False),
    ("Mov*[ta]", True),
    ("ketamine[nm]", True),
    ("amino acid[nm]", False),
    # authors
    ("Muller A[au]", True),
    ("o'brien j[au]", True),
    ("obrien jc[au]", True),
    ("o'brien jx[au]", False),
    ("John Carl O'Brien[au]", True),
    ("Smith J[au]", True),
    ("Smith[1au]", False),
    ("Muller[1au]", True),
    ("Smith J[lastau]", True),
    ("Dystonia Study Group[au]", True),
    ("Anna Muller[fau]", True),
    ("Muller[fau]", False),
    ("0000-0002-1825-0097[auid]", True),
    ("universitat koln[ad]", True),
    ("neurology[ad]", True),
    # identifiers and locators
    ("31415926[pmid]", True),
    ("31415927[uid]", False),
    ("10.1002/mds.29999[doi]", True),
    ("10.1002/MDS.29999[aid]", True),
    ("PMC1234567[aid]", True),
    ("NCT02149199[si]", True),
    ("ClinicalTrials.gov/NCT02149199[si]", True),
    ("39[vi]", True),
    ("4[ip]", True),
    ("712[pg]", True),
    ("713[pg]", False),
    ("0885-3185[is]", True),
    # dates: single periods and ranges, on the record's own dates
    ("2024[dp]", True),
    ("2024/04[dp]", True),
    ("2024/04/15[dp]", True),  # a month-precise date overlaps the day
    ("2024/05[dp]", False),
    ("2023[dp]", False),
    ("2020:2024[dp]", True),
    ('"2024/02/10"[crdt]', True),
    ("2024/02/11:2024/12/31[crdt]", False),
    ("2024/02/11[edat]", True),
    ("2024/05/01[mhda]", True),
    ("2024/05/02[dcom]", True),
    ("2024/06/30[lr]", True),
    ("2024/06/30[mdat]", True),
    ('"2017"[dp] : "3000"[dp]', True),
    ("1865/01/01:2022/11/05[crdt]", False),
    # subsets a record can answer
    ("medline[sb]", True),
    ("publisher[sb]", False),
    ("hasabstract", True),
    ("pubmed pmc[sb]", True),
    # boolean logic, left to right
    ("ketamine OR aspirin AND nothingatall", False),  # (ketamine OR aspirin) AND ...
    ("nothingatall AND aspirin OR ketamine", True),  # (... AND ...) OR ketamine
    ("ketamine NOT aspirin", True),
    ("ketamine NOT dystonia", False),
    ("aspirin OR (ketamine AND (dystonia NOT (aspirin OR saline)))", False),
    ("aspirin OR (ketamine AND (dystonia NOT (aspirin OR heparin)))", True),
    ("(((((((((ketamine)))))))))", True),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q for q, _ in CASES])
def test_matching(query: str, expected: bool) -> None:
    assert matches(query) is expected


# -- what cannot be evaluated ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ketamine AND systematic[sb]", True),  # left out: "ketamine"
        ("aspirin AND systematic[sb]", False),  # left out: "aspirin"
        ("aspirin OR systematic[sb]", False),
        ("ketamine NOT systematic[sb]", True),
        ("ketamine NOT (systematic[sb] OR dystonia)", False),
        ("ketamine AND UL1 TR001427[gr]", True),
        ("aspirin AND x[foo]", False),
        ("ketamine AND x[foo]", True),
    ],
)
def test_clauses_that_cannot_be_evaluated_are_left_out(query: str, expected: bool) -> None:
    matcher = compile_query(query)
    assert matcher.matches(DOC) is expected
    assert any("left out of the evaluation" in caveat for caveat in matcher.caveats)


def test_caveats_say_plainly_what_was_done() -> None:
    matcher = compile_query("pain[mh] AND systematic[sb] AND UL1[gr] AND x[foo] AND trial[pt]")
    text = "\n".join(matcher.caveats)
    assert "systematic[sb]: subsets and filters" in text
    assert "UL1[gr]: [gr] cannot be evaluated locally: grant numbers" in text
    assert "x[foo]: [foo] is not a PubMed field" in text
    assert "MeSH tree" in text
    assert "as with :noexp" in text
    assert "[pt] includes narrower types only for" in text
    assert compile_query("pain[tiab] AND pain[mh:noexp]").caveats == (
        compile_query("pain[mh:noexp]").caveats
    )
    assert "automatic term mapping" in " ".join(compile_query("pain").caveats)
    assert compile_query("pain[tiab]").caveats == ()


def test_a_query_of_only_unanswerable_clauses_matches_every_record() -> None:
    matcher = compile_query("systematic[sb] OR x[gr]")
    assert matcher.matches(DOC)
    assert matcher.matches(IndexedArticle.from_article(Article(pmid="1")))
    assert any("matches every record" in c for c in matcher.caveats)


def test_relative_dates_count_back_from_today() -> None:
    assert compile_query('"last 30 days"[crdt]', today=date(2024, 3, 1)).matches(DOC)
    assert not compile_query('"last 10 days"[crdt]', today=date(2024, 3, 1)).matches(DOC)
    assert compile_query('"last 1 years"[dp]', today=date(2025, 1, 1)).matches(DOC)


# -- proximity ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"hand dystonia"[tiab:~0]', True),
        ('"dystonia hand"[tiab:~0]', True),  # any order
        ('"focal dystonia"[tiab:~0]', False),
        ('"focal dystonia"[tiab:~1]', True),
        ('"ketamine trial"[ti:~4]', False),
        ('"ketamine trial"[ti:~7]', True),
        ('"ketamine cortex"[tiab:~50]', False),  # title and abstract are searched apart
        ('"neurology koln"[ad:~2]', True),
    ],
)
def test_proximity(query: str, expected: bool) -> None:
    assert matches(query) is expected


# -- explanations -------------------------------------------------------------------


def test_explain_names_field_tag_term_and_the_words_as_written() -> None:
    matcher = compile_query(
        '(randomi*[tiab] OR "writers cramp"[ti]) AND (Köln[ti] OR ketamine/ad[majr]) '
        "AND clinical trial[pt] AND 2024[dp] NOT aspirin"
    )
    hits = matcher.explain(DOC)
    assert Hit("title", "tiab", "randomi*", "randomised") in hits
    assert Hit("title", "ti", "writers cramp", "Writer’s Cramp") in hits
    assert Hit("title", "ti", "Köln", "Köln") in hits
    assert Hit("mesh", "majr", "ketamine/ad", "Ketamine/administration & dosage") in hits
    assert Hit("publication_type", "pt", "clinical trial", "Randomized Controlled Trial") in hits
    assert Hit("publication_date", "dp", "2024", "2024 Apr") in hits
    assert all(h.term != "aspirin" for h in hits)


def test_explain_words_across_punctuation_and_in_keywords() -> None:
    hits = compile_query('"nmda receptor blockade" OR cramp[ot] OR mep*[ab]').explain(DOC)
    assert Hit("abstract", "", "nmda receptor blockade", "NMDA-receptor blockade") in hits
    assert Hit("keywords", "ot", "cramp", "cramp") in hits
    assert Hit("abstract", "ab", "mep*", "MEPs") in hits
    assert compile_query('"focal dystonia"[tiab:~1]').explain(DOC) == [
        Hit("abstract", "tiab", "focal dystonia", "Focal hand dystonia")
    ]


def test_explain_shows_values_as_the_record_has_them() -> None:
    hits = compile_query(
        "english[la] AND 10.1002/mds.29999[doi] AND nct02149199[si] AND mov disord[ta] "
        "AND obrien j[au] AND medline[sb]"
    ).explain(DOC)
    assert hits == [
        Hit("language", "la", "english", "eng"),
        Hit("doi", "doi", "10.1002/mds.29999", "10.1002/MDS.29999"),
        Hit("secondary_id", "si", "nct02149199", "NCT02149199"),
        Hit("journal", "ta", "mov disord", "Mov Disord"),
        Hit("author", "au", "obrien j", "O'Brien JC"),
        Hit("status", "sb", "medline", "MEDLINE"),
    ]


def test_explain_is_empty_when_the_record_does_not_match() -> None:
    assert compile_query("ketamine AND aspirin").explain(DOC) == []
    assert compile_query("ketamine NOT dystonia").explain(DOC) == []


def test_terms_under_not_and_left_out_clauses_explain_nothing() -> None:
    hits = compile_query("dystonia[ti] OR ketamine[ti] NOT aspirin NOT systematic[sb]").explain(DOC)
    assert [h.term for h in hits] == ["ketamine"]


# -- records and matchers are reusable ---------------------------------------------------


def test_one_indexed_record_serves_many_rules_and_matchers_take_articles() -> None:
    doc = IndexedArticle.from_article(ARTICLE)
    rules = [compile_query(q) for q, _ in CASES]
    assert [r.matches(doc) for r in rules] == [e for _, e in CASES]
    assert [r.matches(doc) for r in rules] == [e for _, e in CASES]  # caches do not leak
    assert compile_query("ketamine[ti]").matches(ARTICLE)


def test_a_record_with_nothing_in_it() -> None:
    empty = IndexedArticle.from_article(Article(pmid="1"))
    for query, _ in CASES:
        if query not in ("ketamine OR aspirin AND nothingatall",):
            assert compile_query(query).explain(empty) == []


def test_changes_to_a_record_change_the_answer() -> None:
    retitled = IndexedArticle.from_article(replace(ARTICLE, title="Botulinum toxin in dystonia"))
    assert not matches("ketamine[ti]", retitled)
    assert matches("dystonia[ti]", retitled)


def test_compile_accepts_a_parsed_tree() -> None:
    tree = parse("ketamine[ti] AND dystonia")
    matcher = compile_query(tree)
    assert matcher.node is tree
    assert matcher.query == "ketamine[ti] AND dystonia"
    assert matcher.matches(DOC)


def test_a_rule_nested_deeper_than_python_parses_is_evaluated_by_the_clause_tree() -> None:
    """Generated code cannot nest 60 blocks deep; such a rule still works (review finding)."""
    nested = "ketamine[tiab]"
    for i in range(60):
        nested = f"(y{i}[tiab] AND ({nested} OR dystonia[tiab]))"
    matcher = compile_query(nested)
    assert matcher.matches(Article(pmid="1", title="y59 dystonia"))
    assert not matcher.matches(Article(pmid="2", title="ketamine"))
