"""``litwatch hits list`` and ``litwatch hits show``."""

from __future__ import annotations

from typing import Any

import click

from ..claims_report import claims_to_match, load_claims
from ..errors import InputError
from ..hits import TABLE_COLUMNS, hit_record, hit_records
from ..store import ORDERS, get_article, list_articles
from ..store.reads import DECISION_FILTERS
from ..tagging import EVIDENCE_LEVELS
from .context import AppContext
from .groups import hits
from .output import dump_json, emit_rows, output_options


@hits.command("list")
@click.option(
    "--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most N hits."
)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip the first N hits.")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="First seen on or after DATE."
)
@click.option("--status", help="PubMed status: MEDLINE, In-Process, Publisher ...")
@click.option("--untriaged", is_flag=True, help="Only hits with no curator decision yet.")
@click.option(
    "--decision",
    "decisions",
    multiple=True,
    type=click.Choice(DECISION_FILTERS),
    help="Current decision (repeatable; 'untriaged' for none).",
)
@click.option(
    "--claim", "claims", multiple=True, help="Tagged with this claim or one below it (repeatable)."
)
@click.option(
    "--evidence",
    multiple=True,
    type=click.Choice(EVIDENCE_LEVELS),
    help="Evidence level (repeatable).",
)
@click.option("--trial/--not-trial", default=None, help="Only trials, or only non-trials.")
@click.option(
    "--retracted/--not-retracted", default=None, help="Only retracted, or only not retracted."
)
@click.option("--query", "queries", multiple=True, help="Found by this saved query (repeatable).")
@click.option(
    "--search", help="Words that must all occur (title, abstract, MeSH...); word* = prefix."
)
@click.option(
    "--sort", "order", type=click.Choice(ORDERS), default="newest", show_default=True, help="Order."
)
@click.option("--include-deleted", is_flag=True, help="Also records PubMed has deleted.")
@output_options
@click.pass_obj
def list_hits(
    app: AppContext,
    limit: int,
    offset: int,
    since: Any,
    status: str | None,
    untriaged: bool,
    decisions: tuple[str, ...],
    claims: tuple[str, ...],
    evidence: tuple[str, ...],
    trial: bool | None,
    retracted: bool | None,
    queries: tuple[str, ...],
    search: str | None,
    order: str,
    include_deleted: bool,
    output_format: str | None,
) -> None:
    """Stored articles, newest first, filtered; a table on a terminal, --json or --csv."""
    catalogue = load_claims(app.settings.queries_dir / "claims.toml")
    claims = claims_to_match(catalogue, claims, option="--claim")
    stored = list_articles(
        app.engine,
        since=since.date() if since else None,
        status=status,
        limit=limit,
        offset=offset,
        order=order,
        untriaged=untriaged,
        search=search,
        decisions=decisions,
        claims=claims,
        evidence=evidence,
        trial=trial,
        retracted=retracted,
        queries=queries,
        include_deleted=include_deleted,
    )
    with app.engine.connect() as conn:
        rows = hit_records(conn, stored)
    emit_rows(rows, output_format, columns=None if output_format else TABLE_COLUMNS)


@hits.command("show")
@click.argument("pmid")
@click.option("--json", "as_json", is_flag=True, help="Print the record as a JSON object.")
@click.pass_obj
def show_hit(app: AppContext, pmid: str, as_json: bool) -> None:
    """One stored article in full."""
    stored = get_article(app.engine, pmid)
    if stored is None:
        raise InputError("PMID", f"{pmid} is not stored")
    with app.engine.connect() as conn:
        record = hit_record(conn, stored)
    if as_json:
        click.echo(dump_json(record))
        return
    click.echo(_as_text(record))


def _as_text(r: dict[str, Any]) -> str:
    lines = [f"PMID {r['pmid']}  {r['title']}"]
    where = ", ".join(str(x) for x in (r["journal"], r["pub_date_text"]) if x)
    if where:
        lines.append(where)
    if r["authors"]:
        lines.append("; ".join(r["authors"][:10]) + (" et al." if len(r["authors"]) > 10 else ""))
    facts = {
        "status": r["status"],
        "types": ", ".join(r["publication_types"]),
        "evidence": r["evidence_level"],
        "trial": ", ".join(r["registry_ids"]) if r["is_trial"] else None,
        "claims": ", ".join(r["claims"]),
        "queries": ", ".join(r["queries"]),
        "decision": r["decision"],
        "retracted": "yes" if r["retracted"] else None,
        "first seen": r["first_seen"].isoformat(timespec="seconds"),
        "updated": r["updated"].isoformat(timespec="seconds") if r["updated"] else None,
        "same work": ", ".join(r["same_work"]),
    }
    lines += [f"  {k}: {v}" for k, v in facts.items() if v]
    lines += [f"  {name}: {url}" for name, url in r["links"].items()]
    if r["abstract"]:
        lines += ["", r["abstract"]]
    if r["mesh"]:
        lines += ["", "MeSH: " + "; ".join(r["mesh"])]
    return "\n".join(lines)
