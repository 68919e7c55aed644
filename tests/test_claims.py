"""The claim catalogue: the shipped claims.toml, and the loader's errors with line numbers."""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

import pytest
from sample_records import latest_versions

from litwatch.claims import (
    SECTIONS,
    SUMMARY_IDS,
    Catalogue,
    check_catalogue,
    load_catalogue,
)
from litwatch.errors import ConfigError
from litwatch.querylang import IndexedArticle, compile_query, parse, to_query
from litwatch.querylang.nodes import And, Node, Not
from litwatch.tagging import tag_article

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "queries" / "claims.toml"
EXPECTATIONS = Path(__file__).resolve().parent / "data" / "sample_expectations.toml"

GOOD_CLAIM = """
[[claim]]
id = "{id}"
label = "A claim"
section = "{section}"
statement = "Something the article says."
rule = '{rule}'
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "claims.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def claim(id: str = "a-claim", section: str = "summary", rule: str = "ketamin*[tiab]") -> str:
    return GOOD_CLAIM.format(id=id, section=section, rule=rule)


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue(SHIPPED)


# -- the shipped catalogue ------------------------------------------------------


def test_summary_table_has_exactly_the_articles_five_conclusions(shipped: Catalogue) -> None:
    summary = {c.id: c.article_status for c in shipped if c.section == "summary"}
    assert summary == {
        "established-treatment": "Not yet",
        "plausible-mechanism": "Yes",
        "other-movement-disorders": "Emerging",
        "neurorehab-window": "Theoretical and case-based",
        "trials-needed": "Urgently needed",
    }
    assert tuple(summary) == SUMMARY_IDS


def test_four_mechanism_pairs_are_children_of_plausible_mechanism(shipped: Catalogue) -> None:
    mechanisms = [c for c in shipped if c.section == "mechanism"]
    assert len(mechanisms) == 4
    assert {c.parent for c in mechanisms} == {"plausible-mechanism"}
    assert set(shipped.children("plausible-mechanism")) >= {c.id for c in mechanisms}


def test_every_section_of_the_article_is_covered(shipped: Catalogue) -> None:
    assert {c.section for c in shipped} == set(SECTIONS)
    cautions = " ".join(c.statement.lower() for c in shipped if c.section == "caution")
    for word in ("dissociation", "dependence", "worsen"):
        assert word in cautions
    protocol = " ".join(c.label + c.statement for c in shipped if c.section == "protocol")
    for detail in ("0.25", "0.5 mg/kg", "occupational therapy", "2-4", "MEPs"):
        assert detail in protocol


def test_every_rule_parses_and_round_trips(shipped: Catalogue) -> None:
    raw = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))["claim"]
    assert [c.id for c in shipped] == [entry["id"] for entry in raw]
    for claim_ in shipped:
        canonical = to_query(parse(claim_.rule))
        assert to_query(parse(canonical)) == canonical == claim_.rule_text
        assert claim_.line


def test_every_claim_has_a_matching_record_and_a_near_miss(shipped: Catalogue) -> None:
    expectations = tomllib.loads(EXPECTATIONS.read_text(encoding="utf-8"))
    articles = latest_versions()
    tagged = {pmid: set(tag_article(a, shipped).claim_ids) for pmid, a in articles.items()}
    for claim_ in shipped:
        expected = [
            pmid
            for pmid, record in expectations["records"].items()
            if claim_.id in record["claims"] + record["other_claims"]
        ]
        matched = [pmid for pmid in expected if claim_.id in tagged[pmid]]
        assert matched, f"{claim_.id}: no record of the sample corpus matches it"
        near_misses = expectations["near_misses"].get(claim_.id, [])
        assert near_misses, f"{claim_.id}: no near-miss listed"
        wrongly = [pmid for pmid in near_misses if claim_.id in tagged[pmid]]
        assert not wrongly, f"{claim_.id}: near-misses tagged: {wrongly}"


def _required_parts(node: Node) -> list[Node]:
    """The operands a record must match for the rule to (AND operands, NOT's left side)."""
    if isinstance(node, Not):
        return _required_parts(node.left)
    if isinstance(node, And):
        return [part for child in node.children for part in _required_parts(child)]
    return [node]


def test_every_near_miss_is_near(shipped: Catalogue) -> None:
    """A near-miss shares vocabulary with the rule: it matches at least one of the parts
    the rule requires (or all of them, and the rule's NOT turns it away), so the test
    above shows the rule telling close cases apart, not just ignoring strangers."""
    near_misses = tomllib.loads(EXPECTATIONS.read_text(encoding="utf-8"))["near_misses"]
    articles = latest_versions()
    for claim_ in shipped:
        parts = [compile_query(part) for part in _required_parts(parse(claim_.rule_text))]
        for pmid in near_misses.get(claim_.id, []):
            doc = IndexedArticle.from_article(articles[pmid])
            assert any(part.matches(doc) for part in parts), f"{claim_.id}: {pmid} is not near"


def test_depression_paper_is_not_a_mechanism_of_writers_cramp(shipped: Catalogue) -> None:
    articles = latest_versions()
    depression = articles["90000102"]  # esketamine, BDNF, mTOR, plasticity: no motor system
    assert "depression" in depression.title.lower()
    assert "plausible-mechanism" not in tag_article(depression, shipped).claim_ids
    motor = articles["90000704"]  # NMDA antagonists and motor cortex plasticity
    assert "plausible-mechanism" in tag_article(motor, shipped).claim_ids


# -- content hash ------------------------------------------------------------------


def test_hash_ignores_wording_and_layout_but_not_rules(tmp_path: Path) -> None:
    base = load_catalogue(write(tmp_path, claim(rule="ketamin*[tiab] AND dystoni*[tiab]")))
    reworded = (
        claim(rule="ketamin*[tiab]   AND\n dystoni*[tiab]")
        .replace("A claim", "Another label")
        .replace("Something", "Anything")
    )
    same = load_catalogue(
        write(tmp_path, reworded.replace("'ketamin", "'''ketamin").replace("]'", "]'''"))
    )
    changed = load_catalogue(write(tmp_path, claim(rule="ketamin*[tiab] AND dyskinesi*[tiab]")))
    assert same.content_hash == base.content_hash
    assert changed.content_hash != base.content_hash


# -- loader errors -------------------------------------------------------------------


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_catalogue(path)
    return str(caught.value)


def line_of(path: Path, needle: str, occurrence: int = 0) -> int:
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return lines[occurrence]


def test_unknown_key_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, claim() + 'colour = "red"\n')
    assert error_of(path) == (
        f"{path}:{line_of(path, 'colour')}: unknown key 'colour' "
        "(expected one of: article_status, id, label, parent, rule, section, statement)"
    )


def test_duplicate_id_names_the_second_definition(tmp_path: Path) -> None:
    path = write(tmp_path, claim("same") + claim("same"))
    first, second = line_of(path, "[[claim]]", 0), line_of(path, "id = ", 1)
    assert error_of(path) == (
        f"{path}:{second}: duplicate claim id 'same' (first defined at line {first})"
    )


def test_unknown_parent(tmp_path: Path) -> None:
    path = write(tmp_path, claim("child") + 'parent = "nobody"\n')
    assert error_of(path) == (
        f"{path}:{line_of(path, 'parent')}: unknown parent 'nobody': no claim has that id"
    )


def test_parent_cycle(tmp_path: Path) -> None:
    path = write(tmp_path, claim("a") + 'parent = "b"\n' + claim("b") + 'parent = "a"\n')
    assert "form a cycle" in error_of(path)


def test_bad_section(tmp_path: Path) -> None:
    path = write(tmp_path, claim(section="gossip"))
    assert error_of(path) == (
        f"{path}:{line_of(path, 'section')}: section must be one of "
        f"{', '.join(SECTIONS)}, not 'gossip'"
    )


def test_rule_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        claim("first")
        + """
[[claim]]
id = "second"
label = "B"
section = "evidence"
statement = "S."
rule = '''
(ketamin*[tiab] OR esketamin*[tiab]
AND dystoni*[tiab]
'''
""",
    )
    message = error_of(path)
    match = re.match(rf"^{re.escape(str(path))}:(\d+):(\d+): rule: (.+)$", message)
    assert match, message
    assert int(match.group(1)) in (line_of(path, "(ketamin"), line_of(path, "AND dystoni"))
    assert "parenthes" in match.group(3).lower() or ")" in match.group(3)


def test_unknown_field_tag_in_rule(tmp_path: Path) -> None:
    path = write(tmp_path, claim(rule="ketamin*[tiab] AND dystonia[xyz]"))
    line = line_of(path, "rule =")
    column = path.read_text().splitlines()[line - 1].index("[xyz]") + 1
    assert error_of(path) == f"{path}:{line}:{column}: rule: unknown field tag [xyz]"


def test_missing_key_and_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, '[[claim]]\nid = "x"\nlabel = 3\nsection = "summary"\nrule = "a"\n')
    problems = [str(p) for p in check_catalogue(path).problems]
    assert f"{path}:1: [[claim]] #1 has no statement" in problems
    assert f"{path}:3: label must be a non-empty string, not 3" in problems


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, claim() + "rule = \n")
    assert re.match(rf"^{re.escape(str(path))}:\d+: TOML: ", error_of(path))


def test_all_problems_are_reported_and_the_first_is_raised(tmp_path: Path) -> None:
    path = write(tmp_path, claim(section="gossip") + 'colour = "red"\n' + claim("b", rule="(x"))
    check = check_catalogue(path)
    assert check.catalogue is None
    assert len(check.problems) == 3
    assert [p.line for p in check.problems] == sorted(p.line or 0 for p in check.problems)
    assert error_of(path).endswith("(and 2 more problems: run `litwatch claims check`)")


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read" in error_of(tmp_path / "claims.toml")
