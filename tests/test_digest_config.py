"""``[[digest]]`` settings: validated at load time, with the file and line named."""

from __future__ import annotations

from pathlib import Path

import pytest
from digest_fixtures import CLAIMS, SEND1, seed_week1
from sqlalchemy import Engine

from litwatch.config import load_settings
from litwatch.digest_render import render_parts
from litwatch.digest_send import plan_digest, templates_dir_of
from litwatch.errors import ConfigError


def test_several_digests_with_subject_templates(tmp_path: Path) -> None:
    path = tmp_path / "litwatch.toml"
    path.write_text(
        '[[digest]]\nname = "weekly"\nrecipients = ["Ana Researcher <ana@example.org>"]\n'
        'subject = "[{name}] {new_trials} trials, {retracted} retracted, {period}"\n\n'
        '[[digest]]\nname = "trial-alert"\nschedule = "17 * * * *"\nonly_trials = true\n'
    )
    settings = load_settings(path, env={})
    weekly, alert = settings.digests
    assert weekly.recipients == ("Ana Researcher <ana@example.org>",)
    assert weekly.subject.startswith("[{name}]")
    assert (alert.schedule, alert.send_when, alert.max_entries) == ("17 * * * *", "new-trials", 200)
    assert (weekly.only_trials, alert.only_trials) == (False, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[digest]]\nname = "weekly digest"\n', "2: digest name 'weekly digest'"),
        ('[[digest]]\nrecipients = ["a@x.org, b@y.org"]\n', "2: recipient 'a@x.org, b@y.org'"),
        ('[[digest]]\nrecipients = ["nobody"]\n', "2: recipient 'nobody' is not one email"),
        ('[[digest]]\nschedule = "fortnightly"\n', "2: schedule 'fortnightly' is neither"),
        (
            '[[digest]]\nsubject = "{new_trials} {user.__class__}"\n',
            "2: subject has {user.__class__}",
        ),
        ('[[digest]]\nsubject = "{unclosed"\n', "2: subject '{unclosed'"),
        ("[[digest]]\nmax_entries = 0\n", "2: max_entries must be a positive integer"),
        ('[[digest]]\nname = "a"\n\n[[digest]]\nname = "a"\n', "1: two digests are named 'a'"),
        ("digest = 3\n", "1: digest must be a [[digest]] table"),
    ],
)
def test_bad_digest_settings_name_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "litwatch.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert f"litwatch.toml:{expected}" in str(info.value)


def test_templates_beside_the_config_are_used(engine: Engine, tmp_path: Path) -> None:
    seed_week1(engine)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "digest.txt.j2").write_text(
        "Custom: {{ digest.summary }}{% for e in digest.trials %} {{ e.pmid }}{% endfor %}\n"
    )
    path = tmp_path / "litwatch.toml"
    path.write_text("")
    settings = load_settings(path, env={})
    assert templates_dir_of(settings) == tmp_path / "templates"
    digest = plan_digest(engine, settings, now=SEND1, claims=CLAIMS).digest
    rendered = render_parts(digest, templates_dir_of(settings))
    # (trim_blocks eats the newline after a closing block tag)
    assert rendered.text == "Custom: 2 new trials, 4 new papers 90000001 90000002"
    assert "<!DOCTYPE html>" in rendered.html  # the shipped HTML template still applies
