"""Every setting of the engine, its environment variable, default and meaning.

A setting is read from ``ENGINE_<NAME>``; command-line options override the environment.
``SETTINGS_DOC`` is the single list the docs test checks against Docs/assemblies.md.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from assembly_engine.bundle import REPOSITORY_ROOT, default_staging_root, default_trusted_key
from assembly_engine.database_url import InvalidDatabaseUrl, validate_database_url

__all__ = ["REPOSITORY_ROOT", "SETTINGS_DOC", "Settings", "metrics_listen_address"]

# The installed package's library, or Data/Engine/Assemblies in a source checkout (bundle.py).
DEFAULT_STAGING_ROOT = default_staging_root()
# The public key that verifies the shipped official library (Docs/official-library.md).
DEFAULT_TRUSTED_KEY = default_trusted_key()
SIGNATURE_POLICIES = ("require", "warn", "off")
# A hundred years: a later expiry would not fit a timestamp every store can keep.
TOKEN_DAYS_LIMIT = 36_500


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {value!r}")


def setting(default: Any, env: str, doc: str, *, secret: bool = False) -> Any:
    """A settings field that knows its environment variable and its meaning (a secret one
    stays out of ``repr``, so a logged Settings never shows a password)."""
    return field(default=default, repr=not secret, metadata={"env": env, "doc": doc, "secret": secret})


@dataclass(frozen=True)
class Settings:
    home: Path = setting(
        Path("Engine"),
        "ENGINE_HOME",
        "engine home: runtime root, logs, users",
    )
    staging_root: Path = setting(
        DEFAULT_STAGING_ROOT,
        "ENGINE_STAGING_ROOT",
        "shipped official library (official.db + Payloads/)",
    )
    official_trusted_keys: str = setting(
        str(DEFAULT_TRUSTED_KEY),
        "ENGINE_OFFICIAL_TRUSTED_KEYS",
        "comma-separated Ed25519 public key files (.pub) trusted to sign the official library "
        "(default: the repository's Data/Engine/official-signing.pub)",
    )
    official_signatures: str = setting(
        "warn",
        "ENGINE_OFFICIAL_SIGNATURES",
        "require (an unsigned, tampered or untrusted staging copy is refused, the last good "
        "library keeps serving), warn (synced, failures marked) or off",
    )
    host: str = setting(
        "127.0.0.1",
        "ENGINE_HOST",
        "address `serve` binds",
    )
    port: int = setting(
        8000,
        "ENGINE_PORT",
        "port `serve` binds",
    )
    flush_interval: float = setting(
        60.0,
        "ENGINE_FLUSH_INTERVAL",
        "seconds between background flushes of the write queue",
    )
    sqlite_shared_cache: bool = setting(
        True,
        "ENGINE_SQLITE_SHARED_CACHE",
        "open domain databases with cache=shared (0 to turn off)",
    )
    sqlite_busy_timeout_ms: int = setting(
        5000,
        "ENGINE_SQLITE_BUSY_TIMEOUT_MS",
        "SQLite busy_timeout for every connection",
    )
    sqlite_synchronous: str = setting(
        "FULL",
        "ENGINE_SQLITE_SYNCHRONOUS",
        "synchronous pragma of domain databases; FULL keeps a flush durable before the journal "
        "forgets it (the journal itself is always FULL)",
    )
    lock_retry_seconds: float = setting(
        10.0,
        "ENGINE_LOCK_RETRY_SECONDS",
        "retry budget for SQLITE_BUSY/SQLITE_LOCKED before a write gives up",
    )
    admin_password: str | None = setting(
        None,
        "ENGINE_ADMIN_PASSWORD",
        "password of the bootstrap admin created on first start",
        secret=True,
    )
    dev_mode_ttl_seconds: int = setting(
        900,
        "ENGINE_DEV_MODE_TTL_SECONDS",
        "how long Dev Mode stays on after it is enabled",
    )
    session_ttl_seconds: int = setting(
        12 * 3600,
        "ENGINE_SESSION_TTL_SECONDS",
        "lifetime of a sign-in session",
    )
    token_max_days: int = setting(
        90,
        "ENGINE_TOKEN_MAX_DAYS",
        "longest lifetime, in days, of an API token (POST /api/tokens)",
    )
    oidc_issuer: str | None = setting(
        None,
        "ENGINE_OIDC_ISSUER",
        "OpenID Connect provider (its issuer URL); set with the client and groups to offer single sign-on",
    )
    oidc_client_id: str | None = setting(
        None, "ENGINE_OIDC_CLIENT_ID", "the engine's client id at the provider"
    )
    oidc_client_secret: str | None = setting(
        None, "ENGINE_OIDC_CLIENT_SECRET", "the engine's client secret at the provider", secret=True
    )
    oidc_groups_claim: str = setting(
        "groups", "ENGINE_OIDC_GROUPS_CLAIM", "ID token claim that lists the person's groups"
    )
    oidc_admin_groups: str = setting(
        "", "ENGINE_OIDC_ADMIN_GROUPS", "comma-separated groups whose members sign in as admin"
    )
    oidc_operator_groups: str = setting(
        "", "ENGINE_OIDC_OPERATOR_GROUPS", "comma-separated groups whose members sign in as operator"
    )
    oidc_username_claim: str = setting(
        "preferred_username", "ENGINE_OIDC_USERNAME_CLAIM", "ID token claim that names the engine account"
    )
    oidc_provider_name: str = setting(
        "single sign-on", "ENGINE_OIDC_PROVIDER_NAME", 'shown on the sign-in page as "Sign in with …"'
    )
    oidc_redirect_url: str | None = setting(
        None,
        "ENGINE_OIDC_REDIRECT_URL",
        "callback URL registered at the provider (default: this engine's /api/auth/oidc/callback as reached)",
    )
    oidc_timeout_seconds: float = setting(
        10.0, "ENGINE_OIDC_TIMEOUT_SECONDS", "time limit of each call to the provider"
    )
    password_login: bool = setting(
        True,
        "ENGINE_PASSWORD_LOGIN",
        "off: only ENGINE_BREAK_GLASS_ADMIN signs in with a password (needs single sign-on)",
    )
    break_glass_admin: str | None = setting(
        None, "ENGINE_BREAK_GLASS_ADMIN", "the one admin who keeps password sign-in when it is off"
    )
    import_max_bytes: int = setting(
        32 * 1024 * 1024,
        "ENGINE_IMPORT_MAX_BYTES",
        "largest accepted import document / body of a create, update or import",
    )
    request_max_bytes: int = setting(
        1024 * 1024,
        "ENGINE_REQUEST_MAX_BYTES",
        "largest request body of every route that does not carry assembly content",
    )
    trusted_proxies: str = setting(
        "",
        "ENGINE_TRUSTED_PROXIES",
        "comma-separated addresses/networks whose X-Forwarded-For/-Proto are believed (none)",
    )
    history_keep: int = setting(
        0,
        "ENGINE_HISTORY_KEEP",
        "revisions kept per assembly by retention (0: all); the current one is always kept",
    )
    trash_days: int = setting(
        30,
        "ENGINE_TRASH_DAYS",
        "days a deleted assembly stays undeletable before retention purges it (0: forever)",
    )
    history_prune_interval: float = setting(
        6 * 3600.0,
        "ENGINE_HISTORY_PRUNE_INTERVAL",
        "seconds between the background retention runs (0: only `assemblies history prune`)",
    )
    orphan_sweep_seconds: float = setting(
        3600.0,
        "ENGINE_ORPHAN_SWEEP_SECONDS",
        "seconds between background sweeps of orphan payload folders older than 10 minutes "
        "(the first a minute after boot at most; 0: only `assemblies verify --fix`)",
    )
    log_level: str = setting(
        "INFO",
        "ENGINE_LOG_LEVEL",
        "engine.log level",
    )
    log_format: str = setting(
        "text",
        "ENGINE_LOG_FORMAT",
        "engine.log and console lines: text, or json (one object per line, with request_id)",
    )
    metrics_listen: str = setting(
        "",
        "ENGINE_METRICS_LISTEN",
        "host:port of a loopback-only listener serving /metrics without sign-in (unset: none)",
    )
    log_max_bytes: int = setting(
        10 * 1024 * 1024,
        "ENGINE_LOG_MAX_BYTES",
        "size at which engine.log is rotated",
    )
    log_backups: int = setting(
        5,
        "ENGINE_LOG_BACKUPS",
        "rotated engine.log files kept (engine.log.1 … engine.log.N)",
    )
    database_url: str | None = setting(
        None,
        "ENGINE_DATABASE_URL",
        "PostgreSQL URL of cluster mode; unset: the embedded storage under ENGINE_HOME",
        secret=True,
    )
    # Payloads are mostly scripts of a few kB: 64 MiB keeps thousands of them, and still
    # fits one that reaches ENGINE_IMPORT_MAX_BYTES' default of 32 MiB.
    payload_cache_mb: int = setting(
        64,
        "ENGINE_PAYLOAD_CACHE_MB",
        "MiB of verified payload content a cluster node keeps in memory, so details it served "
        "answer while PostgreSQL is away (0: off)",
    )
    checks_block: str = setting(
        "official",
        "ENGINE_CHECKS_BLOCK",
        "domains whose saves are refused (422 check_failed) when the script check finds an error, "
        "comma-separated, or none; other domains save and show the diagnostics",
    )
    check_timeout_seconds: float = setting(
        5.0,
        "ENGINE_CHECK_TIMEOUT_SECONDS",
        "time limit of one script check (its process is killed past it; a save waits no longer)",
    )
    check_memory_mb: int = setting(
        512,
        "ENGINE_CHECK_MEMORY_MB",
        "address-space limit in MiB of one script check's process",
    )
    check_workers: int = setting(
        2,
        "ENGINE_CHECK_WORKERS",
        "script checks that run at once (each one process)",
    )
    check_sweep_seconds: float = setting(
        30.0,
        "ENGINE_CHECK_SWEEP_SECONDS",
        "how often the engine looks for stored assemblies without a check result (written by "
        "another node, or skipped under load) and checks them, or finds their stored result",
    )

    def __post_init__(self) -> None:
        # Checked here so the environment and --database-url are judged alike, at startup.
        if self.database_url is not None:
            try:
                validate_database_url(self.database_url)
            except InvalidDatabaseUrl as exc:
                raise ValueError(f"ENGINE_DATABASE_URL (--database-url): {exc}") from None
        if self.official_signatures not in SIGNATURE_POLICIES:
            raise ValueError(
                f"ENGINE_OFFICIAL_SIGNATURES: expected one of {', '.join(SIGNATURE_POLICIES)}, "
                f"got {self.official_signatures!r}"
            )
        if not 1 <= self.token_max_days <= TOKEN_DAYS_LIMIT:
            raise ValueError(
                f"ENGINE_TOKEN_MAX_DAYS: expected 1 to {TOKEN_DAYS_LIMIT} days, got {self.token_max_days}"
            )
        if self.log_format not in ("text", "json"):
            raise ValueError(f"ENGINE_LOG_FORMAT: expected text or json, got {self.log_format!r}")
        if self.metrics_listen:
            metrics_listen_address(self.metrics_listen)  # raises ValueError when not loopback
        if self.payload_cache_mb < 0:
            raise ValueError(
                f"ENGINE_PAYLOAD_CACHE_MB: expected 0 (off) or more MiB, got {self.payload_cache_mb}"
            )
        if (
            self.check_timeout_seconds <= 0
            or self.check_sweep_seconds <= 0
            or self.check_memory_mb < 64
            or self.check_workers < 1
        ):
            raise ValueError(
                "ENGINE_CHECK_TIMEOUT_SECONDS and ENGINE_CHECK_SWEEP_SECONDS must be above 0, "
                "ENGINE_CHECK_MEMORY_MB at least 64 "
                "and ENGINE_CHECK_WORKERS at least 1"
            )

        self._check_sign_in()

    def _check_sign_in(self) -> None:
        oidc = (self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret)
        if any(oidc) and not all(oidc):
            raise ValueError(
                "single sign-on needs ENGINE_OIDC_ISSUER, ENGINE_OIDC_CLIENT_ID and "
                "ENGINE_OIDC_CLIENT_SECRET together"
            )
        if self.oidc_issuer and not (self.oidc_admin_groups.strip() or self.oidc_operator_groups.strip()):
            raise ValueError(
                "ENGINE_OIDC_ADMIN_GROUPS or ENGINE_OIDC_OPERATOR_GROUPS must name at least one group: "
                "without a mapped group nobody could sign in"
            )
        if self.oidc_timeout_seconds <= 0:
            raise ValueError("ENGINE_OIDC_TIMEOUT_SECONDS must be above 0")
        if not self.password_login and not (self.oidc_issuer and self.break_glass_admin):
            raise ValueError(
                "ENGINE_PASSWORD_LOGIN=off needs single sign-on (ENGINE_OIDC_ISSUER…) and "
                "ENGINE_BREAK_GLASS_ADMIN, the admin who keeps a password"
            )

    @property
    def runtime_root(self) -> Path:
        return self.home / "Assemblies"

    @property
    def payloads_root(self) -> Path:
        return self.runtime_root / "Payloads"

    @property
    def logs_dir(self) -> Path:
        return self.home / "Logs"

    @property
    def engine_db_path(self) -> Path:
        """The engine's own database: users and sessions."""
        return self.home / "engine.db"

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = _convert(f.type, raw)
            except ValueError as exc:
                raise ValueError(f"{f.metadata['env']}: {exc}") from exc
        settings = cls(**values)
        return settings.with_overrides(**overrides)


def metrics_listen_address(value: str) -> tuple[str, int]:
    """(host, port) of ENGINE_METRICS_LISTEN; only loopback: it asks no credentials."""
    host, sep, port_text = value.strip().rpartition(":")
    host = host.strip("[]")
    try:
        port = int(port_text)
        loopback = sep and (host == "localhost" or ipaddress.ip_address(host).is_loopback)
    except ValueError:
        loopback = False
        port = 0
    if not loopback or not 0 < port < 65536:
        raise ValueError(
            f"ENGINE_METRICS_LISTEN: expected a loopback host:port such as 127.0.0.1:9464, got {value!r}"
        )
    return host, port


def _convert(type_name: object, raw: str) -> Any:
    name = str(type_name)
    if "Path" in name:
        return Path(raw)
    if name == "bool":
        return _bool(raw)
    if name == "int":
        return int(raw)
    if name == "float":
        return float(raw)
    return raw


SETTINGS_DOC: dict[str, str] = {f.metadata["env"]: f.metadata["doc"] for f in fields(Settings)}
