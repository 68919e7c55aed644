"""Settings: ``litwatch.toml`` plus ``LITWATCH_*`` environment variables.

Precedence, lowest first: built-in defaults, the config file, environment
variables, command-line options (applied by the CLI). Secrets (the NCBI API
key, the SMTP login) come only from the environment, never from a file.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .schedules import ScheduleError, parse_schedule
from .tomlfile import TomlDocument, load_toml, reject_unknown_keys

NCBI_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
DEFAULT_DB_URL = "sqlite:///litwatch.db"
DEFAULT_CONFIG_FILE = "litwatch.toml"
SEND_WHEN = ("new-trials", "new-hits", "always")
DEFAULT_EXCLUSION_REASONS = (
    "wrong population",
    "wrong intervention",
    "wrong design",
    "not about ketamine/NMDA",
    "duplicate",
)


@dataclass(frozen=True)
class EutilsSettings:
    base_url: str = NCBI_EUTILS_URL
    tool: str = "litwatch"
    email: str | None = None
    api_key: str | None = field(default=None, repr=False)  # from NCBI_API_KEY only
    batch_size: int = 300
    timeout: float = 60.0
    max_attempts: int = 6


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"  # "starttls", "tls" (implicit) or "none"
    sender: str = "litwatch@localhost"
    timeout: float = 30.0
    ca_file: str | None = None  # a private CA for the relay's certificate
    user: str | None = field(default=None, repr=False)  # LITWATCH_SMTP_USER
    password: str | None = field(default=None, repr=False)  # LITWATCH_SMTP_PASSWORD


# Placeholders a digest's subject template may use ({summary} reads
# "2 new trials, 14 new papers, 1 update", zeros left out).
DIGEST_SUBJECT_FIELDS = (
    "name",
    "period",
    "summary",
    "new_trials",
    "new_papers",
    "new_total",
    "updated",
    "retracted",
)
DEFAULT_DIGEST_SUBJECT = "litwatch: {summary} ({period})"
_DIGEST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class DigestSettings:
    """One digest: who gets it, how often, and when it is worth sending.

    ``send_when``: ``new-trials`` sends only if a new trial is among the new
    papers; ``new-hits`` if there is any new paper or update; ``always`` sends
    on every scheduled run, even with nothing new. ``max_entries`` caps the
    new papers per digest (trials first); the rest wait for the next one.
    ``only_trials`` makes a trial alert: new trials only (and news of them).
    """

    name: str = "weekly"
    recipients: tuple[str, ...] = ()
    schedule: str = "weekly"
    send_when: str = "new-trials"
    max_entries: int = 200
    subject: str = DEFAULT_DIGEST_SUBJECT
    only_trials: bool = False


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    queries_dir: Path = Path("queries")
    templates_dir: Path | None = None  # None: the bundled templates
    outbox_dir: Path = Path("outbox")
    eutils: EutilsSettings = EutilsSettings()
    smtp: SmtpSettings | None = None
    digests: tuple[DigestSettings, ...] = (DigestSettings(),)
    exclusion_reasons: tuple[str, ...] = DEFAULT_EXCLUSION_REASONS
    curator: str | None = None
    config_path: Path | None = None

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_TOP_KEYS = frozenset({"database", "paths", "eutils", "smtp", "digest", "triage"})
_DATABASE_KEYS = frozenset({"url"})
_PATHS_KEYS = frozenset({"queries", "templates", "outbox"})
_EUTILS_KEYS = frozenset({"base_url", "tool", "email", "batch_size", "timeout", "max_attempts"})
_SMTP_KEYS = frozenset({"host", "port", "security", "sender", "timeout", "ca_file"})
_DIGEST_KEYS = frozenset(
    {"name", "recipients", "schedule", "send_when", "max_entries", "subject", "only_trials"}
)
_TRIAGE_KEYS = frozenset({"exclusion_reasons", "curator"})


def load_settings(
    config_path: Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Settings from ``config_path`` (or ``LITWATCH_CONFIG``, or ``./litwatch.toml`` if present).

    A config file named explicitly must exist; the default one is optional.
    """
    env = os.environ if env is None else env
    explicit = config_path or (Path(env["LITWATCH_CONFIG"]) if env.get("LITWATCH_CONFIG") else None)
    path = explicit or Path(DEFAULT_CONFIG_FILE)
    settings = Settings()
    if explicit is not None or path.exists():
        if not path.exists():
            raise ConfigError(path, "config file not found")
        settings = _from_document(load_toml(path))
    return _apply_env(settings, env)


def _from_document(doc: TomlDocument) -> Settings:
    data = doc.data
    errors = reject_unknown_keys(doc, data, _TOP_KEYS)
    base = doc.path.parent

    database = _table(doc, data, "database", _DATABASE_KEYS, errors)
    paths = _table(doc, data, "paths", _PATHS_KEYS, errors)
    eutils_raw = _table(doc, data, "eutils", _EUTILS_KEYS, errors)
    smtp_raw = _table(doc, data, "smtp", _SMTP_KEYS, errors)
    triage = _table(doc, data, "triage", _TRIAGE_KEYS, errors)

    digests = _digests(doc, data, errors)

    smtp = None
    if smtp_raw:
        if "host" not in smtp_raw:
            errors.append(doc.error("[smtp] needs a host", table="smtp"))
        else:
            security = str(smtp_raw.get("security", "starttls"))
            if security not in ("starttls", "tls", "none"):
                errors.append(
                    doc.error(
                        f"security must be starttls, tls or none, not {security!r}",
                        key="security",
                        table="smtp",
                    )
                )
            smtp = SmtpSettings(
                host=str(smtp_raw["host"]),
                port=_int(
                    doc, smtp_raw, "port", 465 if security == "tls" else 587, "smtp", 0, errors
                ),
                security=security,
                sender=str(smtp_raw.get("sender", SmtpSettings.sender)),
                timeout=float(smtp_raw.get("timeout", SmtpSettings.timeout)),
                ca_file=str(_path(base, smtp_raw["ca_file"])) if "ca_file" in smtp_raw else None,
            )

    eutils = EutilsSettings(
        base_url=str(eutils_raw.get("base_url", NCBI_EUTILS_URL)),
        tool=str(eutils_raw.get("tool", "litwatch")),
        email=eutils_raw.get("email"),
        batch_size=_int(doc, eutils_raw, "batch_size", 300, "eutils", 0, errors),
        timeout=float(eutils_raw.get("timeout", 60.0)),
        max_attempts=_int(doc, eutils_raw, "max_attempts", 6, "eutils", 0, errors),
    )
    if " " in eutils.tool:
        errors.append(
            doc.error("tool must not contain spaces (NCBI rule)", key="tool", table="eutils")
        )

    if errors:
        raise errors[0]

    return Settings(
        db_url=_db_url(base, database.get("url")),
        queries_dir=_path(base, paths.get("queries")) or Path("queries"),
        templates_dir=_path(base, paths.get("templates")),
        outbox_dir=_path(base, paths.get("outbox")) or Path("outbox"),
        eutils=eutils,
        smtp=smtp,
        digests=tuple(digests) or (DigestSettings(),),
        exclusion_reasons=tuple(_str_list(doc, triage, "exclusion_reasons", "triage", 0, errors))
        or DEFAULT_EXCLUSION_REASONS,
        curator=triage.get("curator"),
        config_path=doc.path,
    )


def check_subject_template(template: str) -> None:
    """Raise ValueError unless ``template`` uses only ``DIGEST_SUBJECT_FIELDS`` as placeholders."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise ValueError(f"subject {template!r}: {exc}") from exc
    for name in fields:
        if name not in DIGEST_SUBJECT_FIELDS:
            allowed = ", ".join("{" + f + "}" for f in DIGEST_SUBJECT_FIELDS)
            raise ValueError(f"subject has {{{name}}}; the placeholders are {allowed}")


def _digests(
    doc: TomlDocument, data: dict[str, Any], errors: list[ConfigError]
) -> list[DigestSettings]:
    """``[[digest]]`` tables (a single ``[digest]`` table is accepted too), validated."""
    raw_tables = data.get("digest", [])
    if isinstance(raw_tables, dict):
        raw_tables = [raw_tables]
    if not isinstance(raw_tables, list) or not all(isinstance(t, dict) for t in raw_tables):
        errors.append(doc.error("digest must be a [[digest]] table", key="digest"))
        return []
    digests: list[DigestSettings] = []
    for index, raw in enumerate(raw_tables):

        def problem(message: str, key: str, index: int = index) -> None:
            errors.append(doc.error(message, key=key, table="digest", occurrence=index))

        errors.extend(reject_unknown_keys(doc, raw, _DIGEST_KEYS, table="digest", occurrence=index))
        digest = DigestSettings(
            name=str(raw.get("name", "weekly" if index == 0 else f"digest-{index + 1}")),
            recipients=tuple(_str_list(doc, raw, "recipients", "digest", index, errors)),
            schedule=str(raw.get("schedule", "weekly")),
            send_when=str(raw.get("send_when", "new-trials")),
            max_entries=_int(doc, raw, "max_entries", 200, "digest", index, errors),
            subject=str(raw.get("subject", DEFAULT_DIGEST_SUBJECT)),
            only_trials=raw.get("only_trials", False) is True,
        )
        if not isinstance(raw.get("only_trials", False), bool):
            problem("only_trials must be true or false", "only_trials")
        if not _DIGEST_NAME.match(digest.name):
            problem(f"digest name {digest.name!r}: use letters, digits, '.', '_' or '-'", "name")
        for address in digest.recipients:
            parsed = parseaddr(address)[1]
            if "@" not in parsed or any(c in address for c in "\r\n") or "," in address:
                problem(f"recipient {address!r} is not one email address", "recipients")
        try:
            parse_schedule(digest.schedule)
        except ScheduleError as exc:
            problem(str(exc), "schedule")
        if digest.send_when not in SEND_WHEN:
            problem(
                f"send_when must be one of {', '.join(SEND_WHEN)}, not {digest.send_when!r}",
                "send_when",
            )
        try:
            check_subject_template(digest.subject)
        except ValueError as exc:
            problem(str(exc), "subject")
        digests.append(digest)
    names = [d.name for d in digests]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(doc.error(f"two digests are named {name!r}", table="digest"))
    return digests


def _apply_env(settings: Settings, env: Mapping[str, str]) -> Settings:
    eutils = settings.eutils
    if env.get("LITWATCH_EUTILS_URL"):
        eutils = replace(eutils, base_url=env["LITWATCH_EUTILS_URL"])
    if env.get("LITWATCH_EMAIL"):
        eutils = replace(eutils, email=env["LITWATCH_EMAIL"])
    eutils = replace(eutils, api_key=env.get("NCBI_API_KEY") or None)
    smtp = settings.smtp
    if smtp is not None:
        smtp = replace(
            smtp,
            user=env.get("LITWATCH_SMTP_USER") or None,
            password=env.get("LITWATCH_SMTP_PASSWORD") or None,
        )
    changes: dict[str, Any] = {"eutils": eutils, "smtp": smtp}
    if env.get("LITWATCH_DB"):
        changes["db_url"] = env["LITWATCH_DB"]
    if env.get("LITWATCH_QUERIES"):
        changes["queries_dir"] = Path(env["LITWATCH_QUERIES"])
    if env.get("LITWATCH_CURATOR"):
        changes["curator"] = env["LITWATCH_CURATOR"]
    return replace(settings, **changes)


def _table(
    doc: TomlDocument,
    data: dict[str, Any],
    name: str,
    allowed: frozenset[str],
    errors: list[ConfigError],
) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        errors.append(doc.error(f"[{name}] must be a table", key=name))
        return {}
    errors += reject_unknown_keys(doc, value, allowed, table=name)
    return value


def _int(
    doc: TomlDocument,
    data: dict[str, Any],
    key: str,
    default: int,
    table: str,
    occurrence: int,
    errors: list[ConfigError],
) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        errors.append(
            doc.error(
                f"{key} must be a positive integer, not {value!r}",
                key=key,
                table=table,
                occurrence=occurrence,
            )
        )
        return default
    return value


def _str_list(
    doc: TomlDocument,
    data: dict[str, Any],
    key: str,
    table: str,
    occurrence: int,
    errors: list[ConfigError],
) -> list[str]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(
            doc.error(
                f"{key} must be a list of strings", key=key, table=table, occurrence=occurrence
            )
        )
        return []
    return value


def _db_url(base: Path, value: Any) -> str:
    """The database URL; a relative SQLite file named in the file is relative to its folder."""
    if value is None:
        return DEFAULT_DB_URL
    url = str(value)
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        name = url[len(prefix) :]
        if name and name != ":memory:" and not name.startswith("file:"):
            return prefix + str(base.resolve() / name)
    return url


def _path(base: Path, value: Any) -> Path | None:
    """A path from the file, relative to the file's folder."""
    if value is None:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else base / path
