"""``litwatch triage`` (interactive or scripted), ``litwatch hits history``, ``litwatch export``."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..claims_report import claims_to_match, load_claims
from ..export import DECISION_FILTERS, FORMATS, export_records, write_export
from ..models import DECISIONS, STANCES
from ..triage import default_actor, history, triage_states
from ..triage_batch import (
    TriageAction,
    apply_actions,
    make_action,
    read_actions,
    undo_decisions,
)
from ..triage_session import ClaimChoice, TriageSession
from . import cli
from .context import AppContext
from .groups import hits
from .output import emit_rows, output_options


class TerminalIO:
    """The triage session's terminal: screens and messages out, single keys and lines in."""

    def show(self, text: str) -> None:
        click.echo(text)

    def key(self, prompt: str, choices: str) -> str:
        click.echo(f"{prompt} ", nl=False)
        while True:
            try:
                char = click.getchar()
            except OSError as exc:  # no terminal at all (cron, a pipe without /dev/tty)
                click.echo()
                raise click.ClickException(
                    "the interactive loop needs a terminal: give PMIDs or --from-file"
                ) from exc
            if char in ("", "\x04"):  # end of input: leave as if q was pressed
                click.echo()
                if "q" in choices:
                    return "q"
                raise click.Abort()
            if char == "\x03":
                raise click.Abort()
            if char in choices:
                click.echo(char)
                return char

    def line(self, prompt: str) -> str:
        answer: str = click.prompt(prompt, default="", show_default=False)
        return answer


@cli.command("triage")
@click.argument("pmids", nargs=-1)
@click.option("--decision", type=click.Choice(DECISIONS), help="Record this decision.")
@click.option("--reason", help="Why (for exclude: e.g. 'wrong population').")
@click.option("--note", help="A note on each article.")
@click.option("--claim", "claim_id", help="Claim id for --stance.")
@click.option("--stance", type=click.Choice(STANCES), help="The article's stance on --claim.")
@click.option("--tag", help="Add a curator tag (a claim id).")
@click.option("--untag", help="Remove a curator tag.")
@click.option("--undo", "undo_last", is_flag=True, help="Undo the decision in force on each PMID.")
@click.option("--by", "actor", help="Who is triaging (default: settings' curator, then login).")
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with a pmid column and decision, reason, note, claim, stance, tag, untag, by.",
)
@click.pass_obj
def triage_command(
    app: AppContext,
    pmids: tuple[str, ...],
    decision: str | None,
    reason: str | None,
    note: str | None,
    claim_id: str | None,
    stance: str | None,
    tag: str | None,
    untag: str | None,
    undo_last: bool,
    actor: str | None,
    from_file: Path | None,
) -> None:
    """Triage hits: one at a time with single keys, or PMIDs / a CSV file for scripts.

    With no PMIDs and no --from-file, opens the interactive loop over the
    untriaged hits (newest trials first, then by claim), resuming where the
    last session stopped. Keys: i include, e exclude (then a reason), m maybe,
    s skip, n note, c stance on a claim, t curator tag, u undo the last
    decision, o open in the browser, ? help, q quit. Every decision is saved
    at once.

    With PMIDs, records the given decision / note / stance / tag on each (or,
    with --undo, undoes the decision in force on each); with --from-file,
    every row of the CSV. Everything is checked first, then
    written in one transaction: a bad PMID or value changes nothing.
    """
    who = default_actor(actor or app.settings.curator)
    catalogue = load_claims(app.settings.queries_dir / "claims.toml")
    known = {c.id for c in catalogue.claims} if catalogue is not None else None
    action_options = (decision, reason, note, claim_id, stance, tag, untag, undo_last)
    if from_file is not None:
        if pmids or any(action_options):
            raise click.UsageError("--from-file takes no PMIDs or action options")
        _apply(app, read_actions(from_file, known_claims=known), who, str(from_file))
        return
    if undo_last:
        if not pmids or any(action_options[:-1]):
            raise click.UsageError("--undo takes PMIDs and no other action")
        for event in undo_decisions(app.engine, pmids, actor=who):
            click.echo(f"PMID {event.pmid}: {event.describe()}")
        return
    if pmids:
        actions = [
            make_action(
                pmid,
                where="command line",
                decision=decision,
                reason=reason,
                note=note,
                claim=claim_id,
                stance=stance,
                tag=tag,
                untag=untag,
                known_claims=known,
            )
            for pmid in pmids
        ]
        _apply(app, actions, who, None)
        return
    if any(action_options):
        raise click.UsageError("give the PMIDs to record this on (or --from-file)")
    session = TriageSession(
        app.engine,
        TerminalIO(),
        actor=who,
        reasons=app.settings.exclusion_reasons,
        claims=[ClaimChoice(c.id, c.label) for c in catalogue.claims] if catalogue else [],
        width=min(shutil.get_terminal_size((100, 24)).columns, 100),
    )
    session.run()


def _apply(app: AppContext, actions: list[TriageAction], actor: str, source: str | None) -> None:
    counts = apply_actions(app.engine, actions, actor=actor)
    if source is None:
        states = triage_states(app.engine, [a.pmid for a in actions])
        for action in actions:
            current = states.get(action.pmid)
            decided = current.decision if current else None
            shown = (
                f"{decided.decision}" + (f" ({decided.reason})" if decided.reason else "")
                if decided
                else "untriaged"
            )
            click.echo(f"PMID {action.pmid}: {shown}")
    done = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
    where = f" from {source}" if source else ""
    click.echo(f"Recorded{where} as {actor}: {done}.", err=source is None)


@hits.command("history")
@click.argument("pmid")
@output_options
@click.pass_obj
def hits_history(app: AppContext, pmid: str, output_format: str | None) -> None:
    """Every triage event on one article, oldest first: who, when, what, the decision before."""
    events = history(app.engine, pmid)
    rows = [
        {
            "event": e.id,
            "at": e.at.isoformat(timespec="seconds"),
            "by": e.actor,
            "kind": e.kind,
            "what": e.describe(),
            "decision_before": e.previous_decision,
            "undone_by": e.undone_by,
        }
        for e in events
    ]
    if output_format is None:
        state = triage_states(app.engine, [pmid]).get(str(int(pmid)))
        decided = state.decision if state else None
        current = (
            f"{decided.decision}" + (f" ({decided.reason})" if decided.reason else "")
            if decided
            else "untriaged"
        )
        click.echo(f"PMID {int(pmid)}: current decision {current}")
    emit_rows(rows, output_format, empty="No triage events yet.")


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="File format.")
@click.option(
    "--decision",
    "decisions",
    multiple=True,
    type=click.Choice(DECISION_FILTERS),
    help="Only this current decision (repeatable).",
)
@click.option(
    "--claim", "claims", multiple=True, help="Only articles tagged with this claim or one below it."
)
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="First seen on or after DATE."
)
@click.option("--include-deleted", is_flag=True, help="Also records PubMed has deleted.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (default: stdout).",
)
@click.pass_obj
def export_command(
    app: AppContext,
    fmt: str,
    decisions: tuple[str, ...],
    claims: tuple[str, ...],
    since: datetime | None,
    include_deleted: bool,
    output: Path | None,
) -> None:
    """Export hits for Zotero, EndNote, Rayyan, Covidence (RIS, BibTeX), spreadsheets
    (CSV), scripts (JSON Lines) or PubMed-format tools (MEDLINE).

    The decision, reason, claims and notes go in RIS N1/KW and BibTeX note/keywords.
    """
    catalogue = load_claims(app.settings.queries_dir / "claims.toml")
    claims = claims_to_match(catalogue, claims, option="--claim")
    records: Any = export_records(
        app.engine,
        decisions=decisions,
        claims=claims,
        since=since.date() if since else None,
        include_deleted=include_deleted,
    )
    if output is None:
        write_export(records, fmt, sys.stdout)
        return
    # Written beside the target and renamed at the end: a failed export leaves no half file.
    partial = output.with_name(f".{output.name}.part")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            count = write_export(records, fmt, handle)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"Wrote {count} records to {output}", err=True)
