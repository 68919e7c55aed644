"""``litwatch init``: a working folder for people who installed litwatch without the repository.

It holds ``litwatch.toml`` with every setting present but commented out (so
the file documents itself and the defaults apply until a line is
uncommented), and copies of the shipped ``queries/`` and ``templates/``
(from ``litwatch.resources.bundled_dir``: the repository's own folders, or
their copies inside an installed wheel).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .resources import bundled_dir

CONFIG_NAME = "litwatch.toml"

# Every setting, commented out; uncommenting a line changes that setting only.
# tests/test_digest_demo.py checks that each key config.py accepts is here.
CONFIG_TEMPLATE = """\
# litwatch settings. Every line is commented out: the defaults shown apply.
# Uncomment and edit what you need. Secrets never go in this file: the NCBI
# API key comes from NCBI_API_KEY, the SMTP login from LITWATCH_SMTP_USER and
# LITWATCH_SMTP_PASSWORD. Relative paths are relative to this file's folder.

# [database]
# SQLite file by default; for a team, PostgreSQL:
#   url = "postgresql+psycopg://litwatch@db.example.org/litwatch"
# url = "sqlite:///litwatch.db"

# [paths]
# queries = "queries"      # saved searches, one .toml file each, and claims.toml
# templates = "templates"  # digest.html.j2 / digest.txt.j2; by default the templates/
#                          # folder beside this file when it has them, else the shipped ones
# outbox = "outbox"        # where digests go as .eml files when [smtp] is not set

# [eutils]
# NCBI asks every tool to identify itself with an email address.
# email = "you@example.org"
# tool = "litwatch"
# base_url = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
# batch_size = 300         # records per EFetch request
# timeout = 60.0           # seconds per request
# max_attempts = 6         # per request, with backoff, before a search is marked failed

# [smtp]
# Without this table digests are written to the outbox folder.
# host = "smtp.example.org"
# port = 587               # 465 with security = "tls"
# security = "starttls"    # "starttls", "tls" (implicit TLS) or "none" (a local relay)
# sender = "litwatch@example.org"
# timeout = 30.0
# ca_file = "relay-ca.pem" # only for a relay with a private certificate authority

# One [[digest]] table per digest; several may be defined.
# [[digest]]
# name = "weekly"
# recipients = ["you@example.org"]
# schedule = "weekly"      # hourly, daily, weekly, monthly or a cron line "17 5 * * mon"
# send_when = "new-trials" # "new-trials": only when a new trial arrived;
#                          # "new-hits": any new paper or update; "always"
# max_entries = 200        # new papers per digest (trials first); the rest wait
# only_trials = false      # true: new trials only (a trial alert)
# subject = "litwatch: {summary} ({period})"
#   placeholders: {name} {period} {summary} {new_trials} {new_papers}
#                 {new_total} {updated} {retracted}

# [[digest]]
# name = "trial-alert"
# recipients = ["you@example.org"]
# schedule = "hourly"
# send_when = "new-trials"
# only_trials = true

# [triage]
# curator = "your name"    # recorded with each decision (or LITWATCH_CURATOR)
# exclusion_reasons = [
#   "wrong population",
#   "wrong intervention",
#   "wrong design",
#   "not about ketamine/NMDA",
#   "duplicate",
# ]
"""


@dataclass
class InitResult:
    folder: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # already there, left alone


def init_workdir(folder: Path, *, force: bool = False) -> InitResult:
    """Write ``litwatch.toml``, ``queries/`` and ``templates/`` into ``folder``.

    Existing files are kept unless ``force`` (then the shipped versions
    replace them); files of the user's own in those folders are never touched.
    """
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, "exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    result = InitResult(folder)
    _write(folder / CONFIG_NAME, CONFIG_TEMPLATE.encode("utf-8"), force, result)
    for name in ("queries", "templates"):
        source = bundled_dir(name)
        for path in sorted(source.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                target = folder / name / path.relative_to(source)
                _write(target, path.read_bytes(), force, result)
    return result


def _write(target: Path, content: bytes, force: bool, result: InitResult) -> None:
    if target.exists() and not force:
        result.kept.append(target)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.writing")
    temporary.write_bytes(content)
    temporary.replace(target)
    result.written.append(target)


def copy_bundled(name: str, target: Path) -> None:
    """A fresh copy of a bundled folder (``queries`` or ``templates``) at ``target``."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(bundled_dir(name), target, ignore=shutil.ignore_patterns(".*"))
