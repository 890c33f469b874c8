"""The documentation keeps up with the code.

Fails when a CLI command or subcommand, a CLI option, an ``ENGINE_*`` setting or an API
route is not mentioned in Docs/assemblies.md, or when README.md no longer starts with the
two commands. Adding a command, setting or route therefore means documenting it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from fastapi.routing import APIRoute

from assembly_engine.api.app import create_app
from assembly_engine.cli.main import main
from assembly_engine.config import SETTINGS_DOC, Settings

REPOSITORY = Path(__file__).resolve().parents[1]
GUIDE = REPOSITORY / "Docs" / "assemblies.md"
README = REPOSITORY / "README.md"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- CLI


def _commands(group: click.Command, prefix: str) -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group`` (groups included) with its full invocation."""
    yield prefix, group
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):  # lazy subcommands load here
            command = group.get_command(ctx, name)
            assert command is not None, name
            yield from _commands(command, f"{prefix} {name}")


CLI_COMMANDS = [name for name, _ in _commands(main, "assemblies")][1:]


def test_the_cli_has_commands() -> None:
    # Guards the walk itself: an empty list would make the tests below pass vacuously.
    assert {"assemblies serve", "assemblies users add", "assemblies audit verify"} <= set(CLI_COMMANDS)


@pytest.mark.parametrize("command", CLI_COMMANDS)
def test_cli_command_is_documented(guide: str, command: str) -> None:
    assert f"`{command}" in guide, f"{command!r} is not described in {GUIDE.name}"


def _long_options(params: Iterable[click.Parameter]) -> Iterator[str]:
    for param in params:
        if isinstance(param, click.Option):
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    yield opt


CLI_OPTIONS = sorted(
    {(name, opt) for name, command in _commands(main, "assemblies") for opt in _long_options(command.params)}
)


@pytest.mark.parametrize(("command", "option"), CLI_OPTIONS)
def test_cli_option_is_documented(guide: str, command: str, option: str) -> None:
    assert f"`{option}" in guide, f"option {option} of {command!r} is not described in {GUIDE.name}"


# ---------------------------------------------------------------------- settings


def test_settings_doc_lists_every_setting() -> None:
    assert "ENGINE_HOME" in SETTINGS_DOC and len(SETTINGS_DOC) >= 10


@pytest.mark.parametrize("variable", sorted(SETTINGS_DOC))
def test_setting_is_documented(guide: str, variable: str) -> None:
    assert f"`{variable}`" in guide, f"{variable} is not described in {GUIDE.name}"


# ------------------------------------------------------------------------ routes


def _api_routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(METHOD, path) of every APIRoute, also inside included routers and mounts.

    Older FastAPI versions copy included routes into ``app.routes``; newer ones keep an
    included-router object there (``original_router`` + ``include_context.prefix``).
    Both shapes are walked.
    """
    for route in routes:
        if isinstance(route, APIRoute):
            if not route.include_in_schema:  # catch-alls for unknown paths, not API routes
                continue
            for method in sorted(route.methods - IGNORED_METHODS):
                yield method, prefix + route.path_format  # "{guid}", not "{guid:guid}"
            continue
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            extra = getattr(context, "prefix", "") or ""
            yield from _api_routes(original.routes, prefix + extra)
            continue
        children = getattr(route, "routes", None)
        if children:
            yield from _api_routes(children, prefix + getattr(route, "path", ""))


@pytest.fixture(scope="module")
def api_routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    # create_app only builds the application; the lifespan (which would open databases)
    # never runs, so nothing is written anywhere.
    root = tmp_path_factory.mktemp("docs-app")
    settings = Settings(home=root / "home", staging_root=root / "staging")
    app = create_app(settings)
    found = sorted({(m, p) for m, p in _api_routes(app.routes) if p.startswith("/api")})
    assert not (root / "home").exists(), "building the app must not touch the engine home"
    return found


def test_the_app_has_api_routes(api_routes: list[tuple[str, str]]) -> None:
    assert ("GET", "/api/health") in api_routes
    assert ("PUT", "/api/assemblies/{guid}") in api_routes
    assert len(api_routes) >= 20


def test_every_api_route_is_documented(guide: str, api_routes: list[tuple[str, str]]) -> None:
    missing = [f"{method} {path}" for method, path in api_routes if f"{method} {path}" not in guide]
    assert not missing, f"API routes not described in {GUIDE.name}: {', '.join(missing)}"


# ------------------------------------------------------------------------ README


def test_readme_starts_with_the_two_commands() -> None:
    head = "\n".join(README.read_text(encoding="utf-8").splitlines()[:15])
    assert "make run" in head, "README.md must show `make run` within its first 15 lines"
    assert "make test" in head, "README.md must show `make test` within its first 15 lines"


# ------------------------------------------------------------------- input limits


def test_every_input_limit_is_in_the_guides_table(guide: str) -> None:
    from assembly_engine import input_limits

    section = guide.split("### 7.1 Input limits", 1)[1].split("### 7.2", 1)[0]
    missing = []
    for name, value in vars(input_limits).items():
        if not name.isupper() or not isinstance(value, int) or name.startswith("INT64"):
            continue
        shown = {str(value), f"{value:,}", f"{value // 1024} KiB", f"{value // 2**20} MiB"}
        if not any(text in section for text in shown):
            missing.append(f"{name}={value}")
    assert not missing, f"limits missing from assemblies.md §7.1: {', '.join(missing)}"
    assert str(input_limits.INT64_MAX) in section and str(input_limits.INT64_MIN)[1:] in section


# --------------------------------------------------------------------------- design.md

DESIGN = REPOSITORY / "Docs" / "design.md"


def _code_names(text: str) -> Iterator[str]:
    """Module paths (``x/y.py``) and code names (snake_case or CamelCase, dotted or not)
    cited in backticks."""
    for quoted in re.findall(r"`([^`\n]+)`", text):
        for token in re.findall(r"[A-Za-z_][A-Za-z0-9_./]*", quoted):
            if token.endswith(".py") or (
                "/" not in token
                and not token.isupper()
                and not token.startswith("ENGINE_")
                and ("_" in token or re.match(r"[A-Z][a-z]+[A-Z]", token))
            ):
                yield token


def test_every_name_design_md_cites_exists() -> None:
    code = "\n".join(
        p.read_text(encoding="utf-8") for top in ("src", "tests") for p in (REPOSITORY / top).rglob("*.py")
    )
    files = [
        p.as_posix() for top in ("src", "tests", "bench", "tools") for p in (REPOSITORY / top).rglob("*.py")
    ]
    cited = set(_code_names(DESIGN.read_text(encoding="utf-8")))
    assert len(cited) > 50  # the scan sees the names
    missing = [
        name
        for name in sorted(cited)
        if (name.endswith(".py") and not any(f.endswith("/" + name) for f in files))
        or (not name.endswith(".py") and not re.search(rf"\b{re.escape(name.split('.')[-1])}\b", code))
    ]
    assert missing == [], f"Docs/design.md cites names the code no longer has: {missing}"


# ----------------------------------------------------------------- connection limits


def test_the_connection_limits_table_shows_the_codes_values(guide: str) -> None:
    from assembly_engine.api import connections, json_values, limits

    section = guide.split("### 14.3 Connection limits", 1)[1].split("\n### ", 1)[0]
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in section.splitlines()
        if line.startswith("| ")
    }
    assert rows["request line (method, URL, version)"] == f"{connections.LINE_MAX_BYTES // 1024} KiB"
    assert rows["request head (line and all headers)"] == f"{connections.HEAD_MAX_BYTES // 1024} KiB"
    assert rows["time for a request's head to arrive"] == f"{connections.HEAD_TIMEOUT_SECONDS:g} s"
    assert rows["each part of a request body"] == f"within {limits.BODY_IDLE_SECONDS:g} s"
    assert rows["a whole request body"] == (
        f"{limits.BODY_MIN_RATE // 1024} KiB/s or faster, after its first {limits.BODY_GRACE_SECONDS:g} s"
    )
    assert rows["JSON values in one request body (keys not counted)"] == f"{json_values.MAX_JSON_VALUES:,}"
    assert rows["bodies over 1 MiB read at once"] == f"{limits.LARGE_BODIES_AT_ONCE} in all, 1 per user"
    assert rows["open connections"] == (
        f"{connections.MAX_CONNECTIONS:,}, and never more than the descriptor limit "
        f"− {connections.FD_RESERVE}"
    )
