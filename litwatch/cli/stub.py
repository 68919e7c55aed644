"""``litwatch stub``: a local E-utilities server to point litwatch at, no internet needed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ..errors import InputError
from ..resources import sample_corpus_dir
from . import cli


@cli.command("stub")
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="PubMed XML file or folder to serve (repeatable; default: the bundled sample corpus).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="0 picks a free port.")
@click.option(
    "--faults", help='Faults to inject, e.g. "429:2,500:1,drop:1" or "random:0.2,seed:7".'
)
@click.option("--api-key", help="The one API key the server accepts (10 requests/s with it).")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The server's date: records created or revised later do not exist yet.",
)
@click.option("--no-rate-limit", is_flag=True, help="Do not enforce NCBI's 3/s and 10/s limits.")
def stub_command(
    corpora: tuple[Path, ...],
    port: int,
    faults: str | None,
    api_key: str | None,
    today: datetime | None,
    no_rate_limit: bool,
) -> None:
    """Serve esearch, efetch and epost like NCBI, from PubMed XML files.

    Prints the base URL, then serves until Ctrl-C. Point litwatch at it with
    LITWATCH_EUTILS_URL=<that URL>.
    """
    from ..testing.eutils_stub import EutilsStub  # the server pulls in querylang; load it here

    sources = list(corpora) or [sample_corpus_dir()]
    try:
        server = EutilsStub(
            sources,
            today=today.date() if today else None,
            faults=faults,
            api_key=api_key,
            rate_limit=not no_rate_limit,
            port=port,
        )
    except InputError as exc:
        if exc.source != "faults":
            raise  # a corpus file: the CLI names it
        raise click.BadParameter(exc.message, param_hint="--faults") from None
    server.start()
    click.echo(server.base_url)
    server.serve_until_interrupted()
