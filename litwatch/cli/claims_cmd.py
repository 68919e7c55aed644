"""``litwatch claims list|show|check`` and ``litwatch tags recompute``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from ..claims import Catalogue, Claim, check_catalogue, load_catalogue
from ..queries import CLAIMS_FILE
from ..store._common import ARTICLES
from ..store.tags import TAGS, ClaimEvidence, claim_evidence, retag
from ..tagging import EVIDENCE_LEVELS
from .context import AppContext
from .groups import claims, tags
from .output import dump_json, emit_rows, output_options


def catalogue_path(app: AppContext) -> Path:
    return app.settings.queries_dir / CLAIMS_FILE


def _catalogue(app: AppContext) -> Catalogue:
    return load_catalogue(catalogue_path(app))


@tags.command("recompute")
@click.option(
    "--all", "everything", is_flag=True, help="Re-tag every article, not only stale ones."
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes tagging in parallel (default: one per CPU; 1: no worker processes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def recompute(app: AppContext, everything: bool, jobs: int | None, as_json: bool) -> None:
    """Re-tag articles whose record or claims.toml changed since they were tagged.

    Rule tags are replaced; curator tags are never touched. A broken
    claims.toml is reported and nothing is changed.
    """
    catalogue = _catalogue(app)  # fails here, before any write, if the file is broken
    count = retag(app.engine, catalogue, all=everything, jobs=jobs)
    if as_json:
        click.echo(dump_json({"retagged": count, "catalogue_hash": catalogue.content_hash}))
        return
    noun = "article" if count == 1 else "articles"
    click.echo(f"Re-tagged {count} {noun} with {len(catalogue)} claims ({_short(catalogue)}).")


@claims.command("list")
@click.option(
    "--evidence", "with_evidence", is_flag=True, help="Add article and trial counts per claim."
)
@output_options
@click.pass_obj
def list_claims(app: AppContext, with_evidence: bool, output_format: str | None) -> None:
    """The claims of the source article, in catalogue order."""
    catalogue = _catalogue(app)
    evidence = claim_evidence(app.engine, catalogue) if with_evidence else {}
    rows: list[dict[str, Any]] = []
    for claim in catalogue:
        row: dict[str, Any] = (
            claim.describe()
            if output_format
            else {
                "id": claim.id,
                "section": claim.section,
                "status": claim.article_status,
                "parent": claim.parent,
                "label": claim.label,
            }
        )
        if claim.id in evidence:
            row["articles"] = evidence[claim.id].articles
            row["trials"] = evidence[claim.id].trials
        rows.append(row)
    emit_rows(rows, output_format, title=f"Claims ({catalogue_path(app)})")


@claims.command("show")
@click.argument("claim_id")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Tagged articles to list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the claim and its evidence as JSON.")
@click.pass_obj
def show_claim(app: AppContext, claim_id: str, limit: int, as_json: bool) -> None:
    """A claim, the article's status for it, and the evidence stored so far."""
    catalogue = _catalogue(app)
    claim = catalogue.get(claim_id)
    evidence = claim_evidence(app.engine, catalogue)[claim.id]
    articles = _tagged_articles(app, catalogue.covering([claim.id]), limit)
    if as_json:
        record = claim.describe()
        record["children"] = list(catalogue.children(claim.id))
        # The figures claims show has always printed (report claims adds included-by-level).
        record["evidence"] = ClaimEvidence.to_dict(evidence)
        record["tagged_articles"] = articles
        click.echo(dump_json(record))
        return
    _print_claim(catalogue, claim, evidence, articles)


@claims.command("check")
@click.pass_obj
def check_claims(app: AppContext) -> None:
    """Check claims.toml: every problem as file:line: message; exit 1 if there is any."""
    path = catalogue_path(app)
    check = check_catalogue(path)
    for problem in check.problems:
        click.echo(str(problem), err=True)
    if check.catalogue is None:
        raise click.exceptions.Exit(1)
    click.echo(
        f"{path}: {len(check.catalogue)} claims, every rule parses ({_short(check.catalogue)})."
    )


# -- helpers ------------------------------------------------------------------


def _short(catalogue: Catalogue) -> str:
    return f"catalogue {catalogue.content_hash[:12]}"


def _tagged_articles(app: AppContext, claim_ids: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """The newest articles tagged (by a rule or a curator) with any of ``claim_ids``: a
    claim and those below it, as the evidence figures count them."""
    tagged = (
        select(TAGS.c.article_id).where(TAGS.c.claim_id.in_(list(claim_ids))).distinct().subquery()
    )
    query = (
        select(
            ARTICLES.c.pmid,
            ARTICLES.c.title,
            ARTICLES.c.evidence_level,
            ARTICLES.c.is_trial,
            ARTICLES.c.is_retracted,
            ARTICLES.c.decision,
        )
        .join(tagged, tagged.c.article_id == ARTICLES.c.id)
        .where(ARTICLES.c.deleted_at.is_(None))
        .order_by(ARTICLES.c.first_seen.desc(), ARTICLES.c.id.desc())
        .limit(limit)
    )
    with app.engine.connect() as conn:
        return [
            {
                "pmid": str(row.pmid),
                "title": row.title,
                "evidence_level": row.evidence_level,
                "is_trial": bool(row.is_trial),
                "retracted": bool(row.is_retracted),
                "decision": row.decision,
            }
            for row in conn.execute(query)
        ]


def _print_claim(
    catalogue: Catalogue, claim: Claim, evidence: ClaimEvidence, articles: list[dict[str, Any]]
) -> None:
    echo = click.echo
    echo(f"{claim.id}: {claim.label}")
    echo(f"  section         {claim.section}")
    echo(f"  article status  {claim.article_status or '-'}")
    if claim.parent:
        echo(f"  parent          {claim.parent}")
    children = catalogue.children(claim.id)
    if children:
        echo(f"  children        {', '.join(children)}")
    echo(f"  statement       {claim.statement}")
    echo(f"  rule            {claim.rule_text}")
    echo("")
    extras = [
        f"{evidence.trials} trial{'s' if evidence.trials != 1 else ''}",
        f"{evidence.retracted} retracted",
        f"{evidence.curator_tagged} tagged by curators",
    ]
    echo(f"Evidence so far: {evidence.articles} articles ({', '.join(extras)})")
    levels = [f"{level} {evidence.by_level.get(level, 0)}" for level in EVIDENCE_LEVELS]
    echo(f"  by evidence level  {', '.join(levels)}")
    decisions = ", ".join(f"{k} {v}" for k, v in evidence.decisions.items())
    echo(f"  decisions          {decisions}")
    stances = ", ".join(f"{k} {v}" for k, v in evidence.stances.items()) or "none yet"
    echo(f"  curator stances    {stances}")
    if articles:
        echo("")
        emit_rows(
            articles,
            None,
            columns=["pmid", "evidence_level", "is_trial", "retracted", "decision", "title"],
            title="Tagged articles, newest first",
        )
