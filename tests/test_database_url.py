"""ENGINE_DATABASE_URL / --database-url: checked with libpq's own parser, the password never
shown, unset meaning the embedded storage, and an unreachable server named plainly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assembly_engine.config import Settings
from assembly_engine.database_url import InvalidDatabaseUrl, redact, validate_database_url
from tests.postgresql_server import free_port

GOOD = [
    "postgresql://engine:pw@db.example:5432/library",
    "postgres://engine@10.0.0.5/library",
    "postgresql://engine:p%40ss@[::1]:5433/library?sslmode=require&connect_timeout=5",
    "postgresql://engine:pw@db1:5432,db2:5433/library?target_session_attrs=read-write",
    "postgresql:///library?host=/var/run/postgresql",
]
BAD = [
    ("mysql://engine:hunter2pw@db/library", "must be a PostgreSQL URL"),
    ("db.example:5432/library", "must be a PostgreSQL URL"),
    ("POSTGRESQL://engine:hunter2pw@db/library", "must be a PostgreSQL URL"),
    ("postgresql://engine:hunter2pw@db:5432", "names no database"),
    ("postgresql://engine:hunter2pw@db:5432/", "names no database"),
    ("postgresql://engine:hunter2pw@db:99999/library", "the port '99999'"),
    ("postgresql://engine:hunter2pw@db:0/library", "the port '0'"),
    ("postgresql://engine:hunter2pw@db:http/library", "the port 'http'"),
    ("postgresql://engine:hunter2pw@db/library?colour=blue", 'invalid URI query parameter: "colour"'),
    ("postgresql://engine:hunter2pw%zz@db/library", "invalid percent-encoded token"),
    ("postgresql://engine:hunter2pw@[::1/library", "IPv6 host address"),
]


@pytest.mark.parametrize("url", GOOD)
def test_well_formed_urls_pass(url: str) -> None:
    assert validate_database_url(url)["dbname"] == "library"
    assert Settings.from_env({"ENGINE_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_a_malformed_url_is_refused_naming_the_setting_never_the_password(url: str, reason: str) -> None:
    with pytest.raises(InvalidDatabaseUrl, match="(?s)" + reason.replace("[", r"\[")):
        validate_database_url(url)
    with pytest.raises(ValueError) as caught:
        Settings.from_env({"ENGINE_DATABASE_URL": url})
    message = str(caught.value)
    assert message.startswith("ENGINE_DATABASE_URL (--database-url): "), message
    assert "hunter2pw" not in message, message


def test_unset_or_empty_means_the_embedded_storage() -> None:
    assert Settings.from_env({}).database_url is None
    assert Settings.from_env({"ENGINE_DATABASE_URL": ""}).database_url is None


def test_the_command_line_option_is_checked_like_the_variable() -> None:
    url = "postgresql://engine:pw@db/library"
    assert Settings.from_env({}, database_url=url).database_url == url
    with pytest.raises(ValueError, match="ENGINE_DATABASE_URL"):
        Settings.from_env({}, database_url="postgresql://engine:pw@db")


def test_settings_never_show_the_url_or_the_admin_password() -> None:
    settings = Settings.from_env(
        {
            "ENGINE_DATABASE_URL": "postgresql://engine:hunter2pw@db/library",
            "ENGINE_ADMIN_PASSWORD": "admin-secret-pw",
        }
    )
    assert "hunter2pw" not in repr(settings) and "admin-secret-pw" not in repr(settings)


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://engine:pw@db/x") == "postgresql://engine:***@db/x"
    assert redact("postgresql://engine@db/x") == "postgresql://engine@db/x"
    assert redact("postgresql://db/x") == "postgresql://db/x"
    assert (
        redact("postgresql://a:b:c@db/x?application_name=a@b")
        == "postgresql://a:***@db/x?application_name=a@b"
    )


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ENGINE_")}
    return subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "--home", str(tmp_path / "home"), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path, how: str) -> None:
    url = f"postgresql://engine:hunter2pw@127.0.0.1:{free_port()}/library"
    done = (
        run_cli(tmp_path, "--database-url", url, "status")
        if how == "option"
        else run_cli(tmp_path, "status", ENGINE_DATABASE_URL=url)
    )
    assert done.returncode != 0
    assert "PostgreSQL at postgresql://engine:***@127.0.0.1" in done.stderr
    assert "could not be reached" in done.stderr
    assert "hunter2pw" not in done.stderr + done.stdout


def test_an_empty_option_counts_as_unset_like_an_empty_variable(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--database-url", "", "status", "--help")
    assert done.returncode == 0, done.stderr


def test_the_cli_names_the_setting_of_a_malformed_url(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "status", ENGINE_DATABASE_URL="postgresql://engine:hunter2pw@db:70000/library")
    assert done.returncode == 2
    assert "ENGINE_DATABASE_URL (--database-url): " in done.stderr and "the port '70000'" in done.stderr
    assert "hunter2pw" not in done.stderr
