"""Everything one engine home needs, built from settings, for the API and the CLI alike."""

from __future__ import annotations

import hmac
import logging
import secrets
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from assembly_engine.bundle import is_packaged_library
from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.maintenance import Health, OfficialSignatures
from assembly_engine.services.assemblies.history import HistoryService
from assembly_engine.services.assemblies.service import AssemblyService
from assembly_engine.services.assemblies.upstream_choice import UpstreamChoice
from assembly_engine.services.audit import AuditLog, Outcome
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth.accounts import AccountService
from assembly_engine.services.auth.api_tokens import TokenService
from assembly_engine.services.auth.dev_mode import DevModeService
from assembly_engine.services.auth.sessions import SessionService
from assembly_engine.services.auth.sign_in import SignInLanes
from assembly_engine.services.auth.sso import SingleSignOn, build_single_sign_on
from assembly_engine.services.auth.throttle import PasswordGate, PasswordThrottle
from assembly_engine.services.auth.users import UserService
from assembly_engine.services.caller import Caller
from assembly_engine.services.checks.gate import ScriptChecks, ScriptDrafts, parse_blocking
from assembly_engine.services.checks.runner import CheckLimits, CheckRunner
from assembly_engine.services.favourites import Favourites
from assembly_engine.services.maintenance import MaintenanceService
from assembly_engine.services.official_summary import OfficialSummary
from assembly_engine.services.orphan_sweep import OrphanSweeper
from assembly_engine.storage.contract.errors import StorageFailed
from assembly_engine.storage.contract.interfaces import CheckResultStore, EngineStore
from assembly_engine.storage.files import cli_access
from assembly_engine.storage.files.cli_access import CLI_ACCESS_FILE
from assembly_engine.storage.files.private_files import make_home_private
from assembly_engine.storage.official.shipped_library import working_copy
from assembly_engine.storage.runtime import AUDIT_FILE, StorageRuntime

log = logging.getLogger("assembly_engine")

__all__ = [
    "AUDIT_FILE",
    "CLI_ACCESS_FILE",
    "EngineServices",
    "engine_running",
]


def script_checks(settings: Settings, store: CheckResultStore | None = None) -> ScriptChecks:
    """The script checks of ``settings`` (also the CLI's offline ``check``, which stores
    nothing); an engine's results go to ``store``."""
    limits = CheckLimits(
        timeout_seconds=settings.check_timeout_seconds,
        memory_mb=settings.check_memory_mb,
        workers=settings.check_workers,
    )
    try:
        blocking = parse_blocking(settings.checks_block)
    except ValueError as exc:
        raise ValueError(f"ENGINE_CHECKS_BLOCK: {exc}") from None
    return ScriptChecks(CheckRunner(limits, store), blocking)


def engine_running(settings: Settings) -> str | None:
    """Why an engine cannot start on this home (another one runs on it), or None."""
    return cli_access.engine_running(settings.runtime_root)


@dataclass
class EngineServices:
    settings: Settings
    storage: StorageRuntime
    store: EngineStore
    users: UserService
    sessions: SessionService
    dev_mode: DevModeService
    throttle: PasswordThrottle
    auditor: Auditor
    audit: AuditLog
    assemblies: AssemblyService
    history: HistoryService
    accounts: AccountService
    maintenance: MaintenanceService
    tokens: TokenService
    cli_token: str
    checks: ScriptChecks
    drafts: ScriptDrafts
    favourites: Favourites
    orphans: OrphanSweeper | None = None
    upstream: UpstreamChoice | None = None  # the choice on a vendor change (official upgrades)
    sign_in_lanes: SignInLanes = field(default_factory=SignInLanes)  # awaited sign-ins
    sso: SingleSignOn | None = None  # OpenID Connect, when ENGINE_OIDC_ISSUER is set
    official: OfficialSummary = field(init=False)  # health's and /metrics' official counts

    def __post_init__(self) -> None:
        self.official = OfficialSummary(lambda: self.storage.cache, lambda: self.storage.official_trust)

    @classmethod
    def open(
        cls, settings: Settings, *, start_worker: bool = True, announce_admin: bool = True
    ) -> EngineServices:
        """Open the engine's services; a start that a full disk stops goes on read-only
        (reads served, every write refused with 503) until restarted with free space."""
        make_home_private(settings.home)
        cause = StorageRuntime.full_disk_before_start(settings)
        if cause is not None:
            log.error("engine cannot start normally: %s; starting read-only", cause)
            return cls._open(
                settings, start_worker=start_worker, announce_admin=announce_admin, read_only_cause=cause
            )
        try:
            return cls._open(settings, start_worker=start_worker, announce_admin=announce_admin)
        except Exception as exc:
            cause = StorageRuntime.full_disk_at_start(exc, settings)
            if cause is None:
                raise
            log.error("engine cannot start normally: %s; starting read-only", cause)
            try:
                return cls._open(
                    settings, start_worker=start_worker, announce_admin=announce_admin, read_only_cause=cause
                )
            except Exception as again:
                log.error("the read-only start failed too: %s", again)
                raise StorageFailed(f"{cause} (a read-only start failed too: {again})") from exc

    @classmethod
    def _open(
        cls,
        settings: Settings,
        *,
        start_worker: bool,
        announce_admin: bool,
        read_only_cause: str | None = None,
    ) -> EngineServices:
        if is_packaged_library(settings.staging_root) and read_only_cause is None:
            # read-only package: work on a copy in the home (a read-only start copies nothing)
            settings = replace(settings, staging_root=working_copy(settings.staging_root, settings.home))
        storage = StorageRuntime.open(settings, start_worker=start_worker, read_only_cause=read_only_cause)
        writers = start_worker and storage.read_only is None  # a read-only start runs no writer
        try:
            store = storage.backend.engine_store()
            users = UserService(store)
            generated = users.ensure_bootstrap_admin(settings.admin_password)
            if generated and announce_admin:
                # Printed once, straight to the console: never through a logger.
                print(
                    "\n  First start: created the administrator account\n"
                    f"    username: admin\n    password: {generated}\n"
                    "  Sign in and change it (PATCH /api/users/admin with password and\n"
                    "  current_password). It is not shown again.\n",
                    file=sys.stderr,
                    flush=True,
                )
            audit = AuditLog(storage.backend.audit_store())
            sessions = SessionService(store, settings.session_ttl_seconds)
            throttle = PasswordThrottle(store=storage.backend.throttle_store())
            passwords = PasswordGate(users, throttle)
            dev_mode = DevModeService(store, users, settings.dev_mode_ttl_seconds, passwords=passwords)
            auditor = Auditor(audit)
            checks = script_checks(settings, storage.backend.check_results())
            assemblies = AssemblyService(
                storage,
                audit,
                lock_retry_seconds=settings.lock_retry_seconds,
                import_max_bytes=settings.import_max_bytes,
                auditor=auditor,
                checks=checks,
            )
            history = HistoryService(
                assemblies.changes,
                storage.databases,
                storage.library_payloads(),
                keep=settings.history_keep,
                trash_days=settings.trash_days,
                prune_interval=settings.history_prune_interval,
            )
            orphans = OrphanSweeper(storage, storage.backend.maintenance(), settings.orphan_sweep_seconds)
            if writers:
                history.start()
                # The list's check counts for what was stored before this start.
                checks.start_sweep(
                    lambda: storage.cache.items(None),
                    lambda item: storage.payloads.read(
                        item.record.payload.payload_guid, item.record.payload.checksum or None
                    ),
                    settings.check_sweep_seconds,
                )
                orphans.start()
            if start_worker:
                checks.runner.prestart()
            trust = storage.official_trust
            if trust.refused:  # the boot's official sync refused the staging copy (require)
                auditor.record(
                    Caller(None, local_cli=True),
                    "official.sync",
                    Outcome.FAILED,
                    domain=Domain.OFFICIAL,
                    detail="refused at boot, the last good official library serves: "
                    + "; ".join(trust.problems),
                )
            accounts = AccountService(
                users,
                sessions,
                dev_mode,
                passwords,
                auditor,
                store.secret("audit-names"),
                password_only_for=None if settings.password_login else settings.break_glass_admin,
            )
            return cls(
                sso=build_single_sign_on(settings, accounts, store),
                settings=settings,
                storage=storage,
                store=store,
                users=users,
                sessions=sessions,
                dev_mode=dev_mode,
                throttle=throttle,
                auditor=auditor,
                audit=audit,
                assemblies=assemblies,
                history=history,
                accounts=accounts,
                maintenance=MaintenanceService(storage, storage.backend.maintenance(), auditor),
                tokens=TokenService(store, auditor, settings.token_max_days),
                cli_token=secrets.token_urlsafe(32),
                checks=checks,
                drafts=ScriptDrafts(checks, auditor),
                favourites=Favourites(store, storage.cache, auditor, lambda: storage.official_trust),
                orphans=orphans,
                upstream=UpstreamChoice(history, lambda: storage.official_trust),
            )
        except BaseException:
            storage.close()
            raise

    def is_cli_token(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.cli_token.encode())

    def credential_is_live(self, token: str) -> bool:
        """A live session or API token (what it may do is decided later, per route)."""
        if self.tokens.looks_like_token(token):
            return self.tokens.is_live(token)
        return self.sessions.resolve(token) is not None

    def credential_owner(self, token: str) -> str | None:
        """The user a live session or API token belongs to; None when it does not work."""
        if self.tokens.looks_like_token(token):
            return self.tokens.live_owner(token)
        session = self.sessions.resolve(token)
        return None if session is None else session.username

    def publish_cli_access(self, url: str) -> Path:
        """Write <home>/cli.json (owner-only) so the CLI can reach this running engine."""
        return cli_access.publish_access(self.settings.home, url, self.cli_token)

    def withdraw_cli_access(self) -> None:
        cli_access.withdraw_access(self.settings.home)

    def health(self) -> Health:
        cache = self.storage.cache
        official = self.official.counts()
        read_only = self.storage.read_only
        return Health.built(
            status="ok" if read_only is None else "read_only",
            read_only=None if read_only is None else read_only.summary(),
            complete=True if read_only is None else read_only.complete,
            assemblies=cache.counts(),
            queue_depth=cache.depth(),
            cache_warm=cache.warm,
            official_signatures=OfficialSignatures.built(**official.signatures),
            official_upstream=dict(official.upstream),
        )

    def close(self) -> None:
        self.withdraw_cli_access()
        self.history.close()
        self.checks.close()
        if self.orphans is not None:
            self.orphans.close()
        self.auditor.flush_refusals()
        try:
            self.storage.close()
        finally:
            self.store.close()
