"""Settings from litwatch.toml and the environment; errors name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from litwatch.config import NCBI_EUTILS_URL, load_settings
from litwatch.errors import ConfigError

FULL = """\
[database]
url = "sqlite:///team.db"

[paths]
queries = "searches"
outbox = "mail/out"

[eutils]
email = "curator@example.org"
batch_size = 200

[smtp]
host = "smtp.example.org"
security = "tls"
sender = "litwatch@example.org"

[[digest]]
name = "weekly"
recipients = ["ana@example.org", "bo@example.org"]
send_when = "new-trials"

[[digest]]
name = "trial-alert"
recipients = "ana@example.org"
schedule = "daily"
send_when = "new-hits"
max_entries = 20

[triage]
exclusion_reasons = ["wrong population", "animal study"]
"""


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.db_url == "sqlite:///litwatch.db"
    assert settings.eutils.base_url == NCBI_EUTILS_URL
    assert settings.smtp is None
    assert [d.name for d in settings.digests] == ["weekly"]
    assert settings.digests[0].send_when == "new-trials"


def test_full_file_and_secrets_from_env(tmp_path: Path) -> None:
    path = tmp_path / "litwatch.toml"
    path.write_text(FULL)
    env = {
        "NCBI_API_KEY": "k3y",
        "LITWATCH_SMTP_USER": "u",
        "LITWATCH_SMTP_PASSWORD": "p",
        "LITWATCH_EUTILS_URL": "http://127.0.0.1:9/entrez/eutils/",
    }
    settings = load_settings(path, env=env)
    # Relative like every path in the file: the same database from any working directory.
    assert settings.db_url == f"sqlite:///{tmp_path.resolve() / 'team.db'}"
    assert settings.queries_dir == tmp_path / "searches"
    assert settings.outbox_dir == tmp_path / "mail/out"
    assert settings.eutils.email == "curator@example.org"
    assert settings.eutils.batch_size == 200
    assert settings.eutils.api_key == "k3y"
    assert settings.eutils.base_url == "http://127.0.0.1:9/entrez/eutils/"
    assert settings.smtp is not None
    assert (settings.smtp.port, settings.smtp.security) == (465, "tls")
    assert (settings.smtp.user, settings.smtp.password) == ("u", "p")
    assert "password" not in repr(settings.smtp)
    assert [d.name for d in settings.digests] == ["weekly", "trial-alert"]
    assert settings.digests[1].recipients == ("ana@example.org",)
    assert settings.digests[1].max_entries == 20
    assert settings.exclusion_reasons == ("wrong population", "animal study")


def test_api_key_is_not_in_repr(tmp_path: Path) -> None:
    env = {"NCBI_API_KEY": "secret-key-123"}
    path = tmp_path / "litwatch.toml"
    path.write_text("")
    assert "secret-key-123" not in repr(load_settings(path, env=env))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[eutils]\nemial = 'x@example.org'\n", "litwatch.toml:2: unknown key 'emial'"),
        ("[eutils]\nbatch_size = 0\n", "litwatch.toml:2: batch_size must be a positive integer"),
        (
            "[[digest]]\nname = 'a'\n\n[[digest]]\nname = 'b'\nsend_when = 'sometimes'\n",
            "litwatch.toml:6: send_when must be one of new-trials, new-hits, always",
        ),
        ("[smtp]\nport = 25\n", "litwatch.toml:1: [smtp] needs a host"),
        ("[database]\nurl = \n", "litwatch.toml:2: TOML: Invalid value"),
        ("[eutils]\ntool = 'lit watch'\n", "litwatch.toml:2: tool must not contain spaces"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "litwatch.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert str(info.value).startswith(f"{path.parent}/{expected}")


def test_named_config_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml", env={})


def test_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={"LITWATCH_DB": "sqlite:///x.db", "LITWATCH_QUERIES": "/q"})
    assert settings.db_url == "sqlite:///x.db"
    assert settings.queries_dir == Path("/q")


def test_database_urls_other_than_relative_sqlite_files_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "litwatch.toml"
    for url in (
        "sqlite:////srv/litwatch.db",
        "sqlite:///:memory:",
        "postgresql+psycopg://litwatch@db.example.org/litwatch",
    ):
        path.write_text(f'[database]\nurl = "{url}"\n')
        assert load_settings(path, env={}).db_url == url
