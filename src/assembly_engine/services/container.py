"""Everything one engine home needs, built from settings, for the API and the CLI alike."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from ..config import Settings
from ..persistence.runtime import StorageRuntime
from .assemblies.service import AssemblyService
from .audit import AuditLog
from .auth.accounts import AccountService
from .auth.dev_mode import DevModeService
from .auth.sessions import SessionService
from .auth.store import EngineStore
from .auth.users import LoginThrottle, UserService
from .caller import Auditor

log = logging.getLogger("assembly_engine")

AUDIT_FILE = "audit.log"


@dataclass
class EngineServices:
    settings: Settings
    storage: StorageRuntime
    store: EngineStore
    users: UserService
    sessions: SessionService
    dev_mode: DevModeService
    throttle: LoginThrottle
    audit: AuditLog
    assemblies: AssemblyService
    accounts: AccountService

    @classmethod
    def open(cls, settings: Settings, *, start_worker: bool = True,
             announce_admin: bool = True) -> EngineServices:
        settings.logs_dir.mkdir(parents=True, exist_ok=True)
        storage = StorageRuntime.open(settings, start_worker=start_worker)
        try:
            store = EngineStore(settings.engine_db_path, settings.sqlite_busy_timeout_ms)
            users = UserService(store)
            generated = users.ensure_bootstrap_admin(settings.admin_password)
            if generated and announce_admin:
                # Printed once, straight to the console: never through a logger.
                print(
                    "\n  First start: created the administrator account\n"
                    f"    username: admin\n    password: {generated}\n"
                    "  Sign in and change it (PATCH /api/users/admin). It is not shown again.\n",
                    file=sys.stderr, flush=True,
                )
            audit = AuditLog(settings.logs_dir / AUDIT_FILE)
            sessions = SessionService(store, settings.session_ttl_seconds)
            dev_mode = DevModeService(store, users, settings.dev_mode_ttl_seconds)
            throttle = LoginThrottle()
            return cls(
                settings=settings,
                storage=storage,
                store=store,
                users=users,
                sessions=sessions,
                dev_mode=dev_mode,
                throttle=throttle,
                audit=audit,
                assemblies=AssemblyService(storage, audit,
                                           lock_retry_seconds=settings.lock_retry_seconds,
                                           import_max_bytes=settings.import_max_bytes),
                accounts=AccountService(users, sessions, dev_mode, throttle, Auditor(audit)),
            )
        except BaseException:
            storage.close()
            raise

    def health(self) -> dict[str, object]:
        cache = self.storage.cache
        return {"status": "ok", "assemblies": cache.counts(), "queue_depth": cache.depth()}

    def close(self) -> None:
        try:
            self.storage.close()
        finally:
            self.store.close()
