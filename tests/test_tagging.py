"""The tagger on hand-built records: evidence levels, trial detection, reasons, parents."""

from __future__ import annotations

import json
import textwrap

import pytest

from litwatch.article import (
    AbstractSection,
    Article,
    CommentCorrection,
    MeshHeading,
    PublicationType,
    RegistryId,
)
from litwatch.claims import Catalogue, load_catalogue
from litwatch.tagging import EVIDENCE_LEVELS, evidence_level, registry_ids, tag_article


def record(
    title: str = "A study",
    abstract: str = "",
    pts: tuple[str, ...] = ("Journal Article",),
    mesh: tuple[str, ...] = (),
    registries: tuple[tuple[str, str], ...] = (),
    comments: tuple[CommentCorrection, ...] = (),
) -> Article:
    return Article(
        pmid="90009999",
        title=title,
        abstract=(AbstractSection(abstract, abstract),) if abstract else (),
        publication_types=tuple(PublicationType(p) for p in pts),
        mesh=tuple(MeshHeading(m) for m in mesh),
        registry_ids=tuple(RegistryId(r, a) for r, a in registries),
        comments_corrections=comments,
    )


EMPTY = Catalogue((), "no-claims")  # evidence level and trial flag need no claims
INDEXED = ("Humans",)  # any MeSH at all: the record is indexed, titles are not read for design

LEVELS = [
    # (publication types, MeSH, title, expected level)
    (("Randomized Controlled Trial", "Clinical Trial Protocol"), INDEXED, "A study", "rct"),
    (("Clinical Trial Protocol", "Clinical Trial"), INDEXED, "A study", "trial-protocol"),
    (("Clinical Trial",), INDEXED, "Study protocol for a pilot trial", "trial-protocol"),
    (("Clinical Trial, Phase II",), INDEXED, "A study", "clinical-trial"),
    (("Controlled Clinical Trial", "Meta-Analysis"), INDEXED, "A study", "clinical-trial"),
    (("Meta-Analysis", "Review"), INDEXED, "A study", "systematic-review"),
    (("Systematic Review",), INDEXED, "A study", "systematic-review"),
    (("Review", "Case Reports"), INDEXED, "A study", "review"),
    (("Case Reports",), ("Humans", "Retrospective Studies"), "A study", "case-report"),
    (("Observational Study",), ("Animals",), "A study", "observational"),
    (("Journal Article",), ("Humans", "Cohort Studies"), "A study", "observational"),
    (("Journal Article",), ("Animals", "Rats"), "A study", "animal"),
    (("Randomized Controlled Trial, Veterinary",), ("Animals", "Dogs"), "A study", "animal"),
    (("Journal Article",), ("Animals", "Humans", "Cells, Cultured"), "A study", "in-vitro"),
    (("Journal Article",), ("Humans",), "A study", "other"),
    (("Retraction of Publication",), (), "Retraction: a case series", "other"),
    (("Letter",), (), "Ketamine: a randomised trial is needed", "other"),
    # Not indexed yet: the title tells the design.
    (("Journal Article",), (), "Ketamine for pain: a randomised controlled trial", "rct"),
    (("Journal Article",), (), "A systematic review of randomised trials", "systematic-review"),
    (("Journal Article",), (), "An open-label pilot trial", "clinical-trial"),
    (("Journal Article",), (), "Ketamine in CRPS: a case series", "case-report"),
    (("Journal Article",), (), "A retrospective cohort of 60 patients", "observational"),
    (("Journal Article",), (), "Ketamine in mice", "animal"),
    (("Journal Article",), (), "Ketamine on cultured neurons in vitro", "in-vitro"),
]


@pytest.mark.parametrize(("pts", "mesh", "title", "level"), LEVELS)
def test_evidence_level_precedence(
    pts: tuple[str, ...], mesh: tuple[str, ...], title: str, level: str
) -> None:
    found, basis = evidence_level(record(title, pts=pts, mesh=mesh))
    assert found == level, basis
    assert found in EVIDENCE_LEVELS
    assert basis


def test_animal_words_in_an_abstract_about_patients_do_not_make_an_animal_study() -> None:
    human = record("Ketamine for pain", "In rats ketamine works; we treated 20 patients.")
    animal = record("Ketamine for pain", "Ketamine reduced pain behaviour in rats.")
    assert evidence_level(human)[0] == "other"
    assert evidence_level(animal)[0] == "animal"


ABSTRACT_IDS = [
    ("Trial registration: ClinicalTrials.gov NCT01234567.", "NCT01234567"),
    ("Registered as NCT 01234567", "NCT01234567"),
    ("ISRCTN12345678", "ISRCTN12345678"),
    ("Australian New Zealand registry ACTRN12618000123456.", "ACTRN12618000123456"),
    ("EudraCT number: 2019-001234-56", "EudraCT 2019-001234-56"),
    ("ChiCTR2000029308", "ChiCTR2000029308"),
    ("ChiCTR-IOR-17013456", "ChiCTR-IOR-17013456"),
    ("CTRI/2020/05/025123", "CTRI/2020/05/025123"),
    ("DRKS00012345", "DRKS00012345"),
    ("JPRN-UMIN000012345", "JPRN-UMIN000012345"),
    ("jRCTs031180001", "jRCTs031180001"),
    ("UMIN000012345", "UMIN000012345"),
]


@pytest.mark.parametrize(("text", "expected"), ABSTRACT_IDS)
def test_registry_numbers_in_abstracts(text: str, expected: str) -> None:
    article = record(abstract=f"Methods as described. {text}")
    assert registry_ids(article) == (expected,)
    assert tag_article(article, EMPTY).is_trial


def test_registry_numbers_from_databanklist_deduplicated() -> None:
    article = record(
        abstract="Registered at NCT01234567 and nct01234567.",
        registries=(
            ("ClinicalTrials.gov", "NCT01234567"),
            ("GENBANK", "AB123456"),
            ("EudraCT", "2019-001234-56"),
        ),
    )
    assert registry_ids(article) == ("NCT01234567", "EudraCT 2019-001234-56")


def test_not_trials() -> None:
    review = record(
        "Ketamine: a systematic review",
        "PROSPERO CRD42020123456. We found no trials.",
        pts=("Systematic Review",),
        mesh=INDEXED,
    )
    veterinary = record(pts=("Randomized Controlled Trial, Veterinary",), mesh=("Animals",))
    for article in (review, veterinary):
        tagging = tag_article(article, EMPTY)
        assert not tagging.is_trial
        assert tagging.registry_ids == ()


def test_protocol_and_trial_types_are_trials() -> None:
    for pts in (("Clinical Trial Protocol",), ("Pragmatic Clinical Trial",)):
        assert tag_article(record(pts=pts, mesh=INDEXED), EMPTY).is_trial


def test_retracted_flag() -> None:
    link = CommentCorrection("RetractionIn", "J. 2026", "90000002")
    assert tag_article(record(comments=(link,)), EMPTY).retracted
    assert tag_article(record(pts=("Retracted Publication",)), EMPTY).retracted
    notice = CommentCorrection("RetractionOf", "J. 2026", "90000001")
    assert not tag_article(record(comments=(notice,)), EMPTY).retracted


# -- claims, reasons and parents ------------------------------------------------------

CATALOGUE = """
[[claim]]
id = "parent-claim"
label = "Parent"
section = "summary"
statement = "S."
rule = 'ketamin*[tiab] AND "motor cortex"[tiab]'

[[claim]]
id = "child-claim"
label = "Child"
section = "mechanism"
parent = "parent-claim"
statement = "S."
rule = '''ketamin*[tiab] AND ("writer's cramp"[ti] OR "Dystonic Disorders"[mh])'''

[[claim]]
id = "grandchild-claim"
label = "Grandchild"
section = "hypothesis"
parent = "child-claim"
statement = "S."
rule = 'esketamin*[tiab]'

[[claim]]
id = "unrelated"
label = "Unrelated"
section = "caution"
statement = "S."
rule = 'dissociat*[tiab] NOT ketamin*[tiab]'
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    path = tmp_path_factory.mktemp("claims") / "claims.toml"
    path.write_text(textwrap.dedent(CATALOGUE), encoding="utf-8")
    return load_catalogue(path)


def test_reasons_name_field_and_the_words_as_written(small: Catalogue) -> None:
    article = record(
        "Esketamine for Writer’s Cramp",
        "Ketamine changed Motor Cortex excitability.",
    )
    tagging = tag_article(article, small)
    assert tagging.claim_ids == ("parent-claim", "child-claim", "grandchild-claim")
    by_id = {t.claim_id: t for t in tagging.claims}
    child = by_id["child-claim"]
    assert ("title", "Writer’s Cramp") in {(h.field, h.matched) for h in child.hits}
    assert child.via == ("grandchild-claim",)
    assert child.rule == small.get("child-claim").rule_text
    parent = by_id["parent-claim"]
    assert ("abstract", "Motor Cortex") in {(h.field, h.matched) for h in parent.hits}
    assert parent.via == ("child-claim", "grandchild-claim")
    reason = parent.reason()
    assert json.loads(json.dumps(reason)) == reason
    assert reason["via"] == "child-claim, grandchild-claim"
    assert {"field", "tag", "term", "matched"} == set(reason["hits"][0])


def test_parent_tagged_only_through_a_child(small: Catalogue) -> None:
    article = record("Esketamine in depression")
    tagging = tag_article(article, small)
    assert tagging.claim_ids == ("parent-claim", "child-claim", "grandchild-claim")
    parent = tagging.claims[0]
    assert parent.hits == ()
    assert parent.rule == ""
    assert parent.via == ("grandchild-claim",)  # the claim whose own rule matched


def test_not_clauses_and_mesh(small: Catalogue) -> None:
    indexed = record("Ketamine trial", "Dissociation was rare.", mesh=("Dystonic Disorders",))
    assert tag_article(indexed, small).claim_ids == ("parent-claim", "child-claim")
    without_ketamine = record("Sedation", "Dissociation was rare.")
    assert tag_article(without_ketamine, small).claim_ids == ("unrelated",)


def test_same_record_same_tags(small: Catalogue) -> None:
    article = record("Esketamine for writer's cramp", "Motor cortex.")
    assert tag_article(article, small) == tag_article(article, small)


def test_the_same_words_twice_are_one_reason(small: Catalogue) -> None:
    article = Article(
        pmid="90009998",
        title="Motor cortex study",
        abstract=tuple(
            AbstractSection(t, t, label)
            for label, t in (("METHODS", "Ketamine was given."), ("RESULTS", "Ketamine helped."))
        ),
    )
    (tag,) = tag_article(article, small).claims
    assert [(h.field, h.matched) for h in tag.hits if h.term == "ketamin*"] == [
        ("abstract", "Ketamine")
    ]
