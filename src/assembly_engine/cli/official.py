"""``assemblies official keygen | sign | verify``: the signed official library, offline.

None of these needs an engine: they work on key files and a staging root (default: the
configured one, ENGINE_STAGING_ROOT), so a release machine or an auditor can run them
with the public key alone (Docs/official-library.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assembly_engine.cli.common import NaturalGroup, emit, json_option, settings_of
from assembly_engine.storage.official.signing import (
    MANIFEST_FILE,
    SIGNATURE_FILE,
    SigningError,
    check_bundle,
    keygen,
    sign_root,
    trusted_key_paths,
)

root_option = click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    help="Staging root (default: ENGINE_STAGING_ROOT).",
)


@click.group(cls=NaturalGroup)
def official() -> None:
    """Sign and verify the official library (manifest.json + manifest.sig)."""


@official.command("keygen")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@json_option
def official_keygen(out: Path, as_json: bool) -> None:
    """Write a new Ed25519 key pair: OUT (private, 0600) and OUT.pub (public)."""
    try:
        pub = keygen(out)
    except (SigningError, OSError) as exc:
        raise click.ClickException(str(exc)) from None

    def human() -> None:
        click.echo(f"private key: {out} (keep it secret, never commit it)")
        click.echo(f"public key:  {pub} (trust it with ENGINE_OFFICIAL_TRUSTED_KEYS)")

    emit(as_json, {"private_key": str(out), "public_key": str(pub)}, human)


@official.command("sign")
@click.option(
    "--key",
    "key",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Private key file (from `assemblies official keygen`).",
)
@root_option
@json_option
@click.pass_context
def official_sign(ctx: click.Context, key: Path, root: Path | None, as_json: bool) -> None:
    """Write manifest.json and manifest.sig for the staging copy in --root."""
    staging = root or settings_of(ctx).staging_root
    try:
        count = sign_root(staging, key)
    except (SigningError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    data = {
        "signed": count,
        "manifest": str(staging / MANIFEST_FILE),
        "signature": str(staging / SIGNATURE_FILE),
    }
    emit(
        as_json,
        data,
        lambda: click.echo(f"signed {count} official assemblies: {data['manifest']}, {data['signature']}"),
    )


@official.command("verify")
@root_option
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Trusted public key file (repeatable; default: ENGINE_OFFICIAL_TRUSTED_KEYS).",
)
@json_option
@click.pass_context
def official_verify(ctx: click.Context, root: Path | None, trust: tuple[Path, ...], as_json: bool) -> None:
    """Check the staging copy offline: exit 0 only when manifest.sig is valid by a trusted
    key and every assembly (and every payload byte) matches the signed manifest."""
    settings = settings_of(ctx)
    staging = root or settings.staging_root
    keys = list(trust) or trusted_key_paths(settings.official_trusted_keys)
    result = check_bundle(staging, keys)
    data = {"root": str(staging), **result.as_dict()}

    def human() -> None:
        if result.ok:
            click.echo(f"verified: {len(result.entries)} official assemblies signed by {result.signed_by}")
        for problem in result.problems:
            click.echo(f"problem: {problem}", err=True)
        if not result.ok:
            click.echo("NOT VERIFIED", err=True)

    emit(as_json, data, human)
    sys.exit(0 if result.ok else 1)
