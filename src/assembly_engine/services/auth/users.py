"""Users: accounts, roles, Argon2id passwords and the bootstrap admin.

No HTTP here. The API and the CLI both call :class:`UserService`; every failure is an
:class:`AuthError` whose ``message`` can be shown to a person as is.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from assembly_engine.domain.clock import utc_iso
from assembly_engine.domain.types import Role
from assembly_engine.services.errors import Conflict, EngineError, NotFound, TooManyRequests, Unauthorized
from assembly_engine.storage.contract.engine_records import UpdateResult, UserChange, UserRow
from assembly_engine.storage.contract.interfaces import EngineStore

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD_LENGTH = 8
# Argon2 accepts any length, but hashing megabytes on every login attempt is a cheap DoS.
MAX_PASSWORD_LENGTH = 1024
BOOTSTRAP_ADMIN = "admin"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# Argon2id with the default parameters takes 64 MiB per hash: at most this many at once,
# and one fewer than the host's cores, so a flood of sign-ins leaves a core for every
# other request (issue 23, 3); the others wait up to HASH_WAIT_SECONDS, then get 429.
MAX_CONCURRENT_HASHES = max(1, min(2, _cores() - 1))
HASH_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    disabled: bool
    created_at: str
    updated_at: str
    sso: bool = False  # signs in at the OpenID Connect provider, has no password
    # The password was chosen by someone else (generated, an admin's new account or reset):
    # the web UI asks the user to choose their own.
    must_change_password: bool = False


# Instead of a password hash, an account made by single sign-on stores this prefix and a
# hash of the provider's (issuer, subject): no password verifies against it, and the next
# sign-in proves it is the same person at the provider, whatever their username claim.
SSO_MARKER_PREFIX = "oidc:"


def sso_marker(issuer: str, subject: str) -> str:
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode("utf-8", "surrogatepass")).hexdigest()
    return SSO_MARKER_PREFIX + digest


# -- errors --------------------------------------------------------------------------------


class AuthError(EngineError):
    """Base of every auth failure; ``code`` is the API error code it maps to."""


class InvalidUsername(AuthError):
    pass


class InvalidPassword(AuthError):
    """A new password does not meet the rules (not: a wrong password)."""


class UserExists(AuthError, Conflict):
    pass


class UserNotFound(AuthError, NotFound):
    pass


class LastAdmin(AuthError, Conflict):
    pass


class InvalidCredentials(AuthError, Unauthorized):
    """Unknown user, wrong password or disabled account — deliberately indistinguishable."""

    def __init__(self, message: str = "Unknown username or wrong password.") -> None:
        super().__init__(message)


class HashingBusy(AuthError, TooManyRequests):
    """Every hashing slot stayed taken: the password was not looked at."""

    def __init__(self) -> None:
        super().__init__("The engine is checking too many passwords at once; try again in a moment.")
        self.retry_after = 1


# -- helpers -------------------------------------------------------------------------------


# Names the engine writes as the actor of its own changes (the local CLI's caller, retention
# and sync entries, PostgreSQL's application name): a user by one of these would read as them.
RESERVED_USERNAMES = frozenset({"cli", "engine", "assembly-engine"})


def validate_username(username: object) -> str:
    if not isinstance(username, str) or USERNAME_PATTERN.fullmatch(username) is None:
        raise InvalidUsername("A username is 1 to 64 characters: letters, digits, '_', '.', '@' or '-'.")
    return username


def validate_new_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidPassword(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidPassword(f"A password can have at most {MAX_PASSWORD_LENGTH} characters.")
    return password


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AuthError("A role is either 'admin' or 'operator'.") from None


def _user(row: UserRow) -> User:
    return User(
        username=row.username,
        role=Role(row.role),
        disabled=row.disabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sso=row.password_hash.startswith(SSO_MARKER_PREFIX),
        must_change_password=row.must_change_password,
    )


def make_password_hasher(fast_hashing: bool = False) -> PasswordHasher:
    """Argon2id with the library's (RFC 9106 low-memory) defaults; ``fast_hashing`` is for
    tests only — it keeps the algorithm but uses tiny cost parameters."""
    if fast_hashing:
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


# -- the service ---------------------------------------------------------------------------


class UserService:
    def __init__(
        self,
        store: EngineStore,
        *,
        fast_hashing: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._hasher = make_password_hasher(fast_hashing)
        self._clock = clock
        self._dummy_hash: str | None = None
        self._dummy_lock = threading.Lock()
        self._hash_slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
        # The reserved sign-in lane's own slot (sign_in.py): a flood that keeps the common
        # slots busy must not make an admin's correct sign-in wait for one of them.
        self._reserved_slot = threading.BoundedSemaphore(1)

    @contextmanager
    def _hashing(self, reserved: bool = False) -> Iterator[None]:
        """Hold one of the few hashing slots (every Argon2 hash or verify runs inside one)."""
        slots = self._reserved_slot if reserved else self._hash_slots
        if not slots.acquire(timeout=HASH_WAIT_SECONDS):
            raise HashingBusy()
        try:
            yield
        finally:
            slots.release()

    # reads

    def get(self, username: str) -> User | None:
        if not isinstance(username, str) or USERNAME_PATTERN.fullmatch(username) is None:
            return None
        row = self._store.get_user(username)
        return None if row is None else _user(row)

    def list(self) -> list[User]:
        return [_user(row) for row in self._store.list_users()]

    def count(self) -> int:
        return self._store.count_users()

    # writes

    def create(self, username: str, password: str, role: Role | str = Role.OPERATOR) -> User:
        validate_username(username)
        if username.casefold() in RESERVED_USERNAMES:
            raise InvalidUsername(
                f"'{username}' is reserved: the audit log and history name the local CLI "
                f"and the engine itself {', '.join(sorted(RESERVED_USERNAMES))}; choose another name."
            )
        validate_new_password(password)
        checked_role = _role(role)
        password_hash = self._hash(password)
        # Whoever creates an account chose its password: its owner is asked to change it.
        if not self._store.insert_user(
            username, password_hash, checked_role.value, self._now(), must_change_password=True
        ):
            raise UserExists(f"A user named '{username}' already exists.")
        return self._require(username)

    def create_sso(self, username: str, marker: str, role: Role) -> User:
        """An account of single sign-on: no password, only the provider's marker."""
        validate_username(username)
        if username.casefold() in RESERVED_USERNAMES:
            raise InvalidUsername(f"'{username}' is reserved for the engine itself.")
        if not self._store.insert_user(username, marker, role.value, self._now()):
            raise UserExists(f"A user named '{username}' already exists.")
        return self._require(username)

    def sso_marker_of(self, username: str) -> str | None:
        """The stored provider marker of an SSO account; None for a password account."""
        row = self._lookup(username)
        if row is None or not row.password_hash.startswith(SSO_MARKER_PREFIX):
            return None
        return row.password_hash

    def set_role(self, username: str, role: Role | str) -> User:
        checked_role = _role(role)
        # A demoted admin must not keep an elevated session: Dev Mode ends with the role.
        self._check(
            username,
            self._store.update_user(
                username,
                self._now(),
                UserChange(role=checked_role.value, clear_dev_mode=checked_role is not Role.ADMIN),
            ),
        )
        return self._require(username)

    def set_disabled(self, username: str, disabled: bool) -> User:
        """Disable or re-enable an account; disabling ends all of its sessions at once."""
        self._check(
            username,
            self._store.update_user(
                username, self._now(), UserChange(disabled=bool(disabled), revoke_sessions=bool(disabled))
            ),
        )
        return self._require(username)

    def set_password(
        self,
        username: str,
        password: str,
        keep_token_hash: str | None = None,
        *,
        chosen_by_owner: bool = False,
    ) -> User:
        """Change a password and end every other session of the user (``keep_token_hash``
        names the session that made the change, if it should survive). A password not
        ``chosen_by_owner`` (an admin's reset) must be changed by its owner."""
        validate_new_password(password)
        password_hash = self._hash(password)
        self._check(
            username,
            self._store.update_user(
                username,
                self._now(),
                UserChange(
                    password_hash=password_hash,
                    revoke_sessions=keep_token_hash is None,
                    revoke_sessions_except=keep_token_hash,
                    must_change_password=not chosen_by_owner,
                ),
            ),
        )
        return self._require(username)

    def delete(self, username: str) -> bool:
        """Remove an account and its sessions. Refuses to remove the last enabled admin."""
        user = self.get(username)
        if user is None:
            return False
        if user.role is Role.ADMIN and not user.disabled:
            # Reuse the guard of update_user: disabling first fails if this is the last admin.
            self._check(username, self._store.update_user(username, self._now(), UserChange(disabled=True)))
        return self._store.delete_user(username)

    def ensure_bootstrap_admin(self, password: str | None) -> str | None:
        """On an empty user table create ``admin``; return the generated password (to print
        once) or None when a password was given or users already existed."""
        if self._store.count_users() > 0:
            return None
        generated = None
        if password is None or password == "":
            generated = secrets.token_urlsafe(18)
            password = generated
        else:
            try:
                validate_new_password(password)
            except InvalidPassword as exc:
                raise InvalidPassword(f"ENGINE_ADMIN_PASSWORD is not usable: {exc}") from None
        password_hash = self._hash(password)
        inserted = self._store.insert_user(
            BOOTSTRAP_ADMIN,
            password_hash,
            Role.ADMIN.value,
            self._now(),
            only_if_empty=True,
            must_change_password=generated is not None,
        )
        # Lost a race with another process: someone else bootstrapped, our password is void.
        return generated if inserted else None

    # passwords

    def authenticate(self, username: str, password: str, *, reserved: bool = False) -> User:
        """The user for this name and password, or InvalidCredentials — for an unknown user
        too, after verifying against a dummy hash so the timing does not tell them apart.
        ``reserved``: hash in the reserved lane's own slot (an admin's clean sign-in)."""
        row = self._lookup(username)
        if row is None or not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
            self._burn_time(password)
            raise InvalidCredentials()
        if not self._verify(row, password, reserved) or row.disabled:
            raise InvalidCredentials()
        return _user(row)

    def verify_password(self, username: str, password: str) -> bool:
        """Re-check a signed-in user's password (Dev Mode, sudo-style)."""
        try:
            self.authenticate(username, password)
        except InvalidCredentials:
            return False
        return True

    # internals

    def _now(self) -> str:
        return utc_iso(self._clock(), timespec="seconds")

    def _lookup(self, username: object) -> UserRow | None:
        if not isinstance(username, str) or USERNAME_PATTERN.fullmatch(username) is None:
            return None
        return self._store.get_user(username)

    def _hash(self, password: str, reserved: bool = False) -> str:
        with self._hashing(reserved):
            return self._hasher.hash(password)

    def _verify(self, row: UserRow, password: str, reserved: bool = False) -> bool:
        try:
            with self._hashing(reserved):
                self._hasher.verify(row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        if self._hasher.check_needs_rehash(row.password_hash):
            # Cost parameters were raised since this hash was made: upgrade it silently.
            self._store.set_password_hash(row.username, self._hash(password, reserved))
        return True

    def _burn_time(self, password: object) -> None:
        with self._dummy_lock:
            if self._dummy_hash is None:
                self._dummy_hash = self._hash(secrets.token_urlsafe(16))
        candidate = password if isinstance(password, str) else ""
        try:
            with self._hashing():
                self._hasher.verify(self._dummy_hash, candidate[:MAX_PASSWORD_LENGTH])
        except VerificationError:
            pass

    def _require(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise UserNotFound(f"There is no user named '{username}'.")
        return user

    @staticmethod
    def _check(username: str, result: UpdateResult) -> None:
        if result == "not_found":
            raise UserNotFound(f"There is no user named '{username}'.")
        if result == "last_admin":
            raise LastAdmin(f"'{username}' is the last enabled admin; create or enable another admin first.")
