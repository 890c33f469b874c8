"""A throwaway PostgreSQL server for tests and benchmarks: Debian's binaries, a temp dir.

``initdb`` into a fresh temporary folder, ``pg_ctl start`` on a free loopback port (its
Unix socket in the same folder, so nothing outside it is touched), ``pg_ctl stop`` and the
folder removed at the end. PostgreSQL refuses to run as root, and CI runs as root: then
every server binary runs through ``runuser -u USER`` as the ``postgres`` system user
(created by Debian's package), or as ``assembly-pg``, a system user made when neither
exists; the folder belongs to that user. Run as anyone else, the binaries run directly.

The superuser ``postgres`` signs in over TCP with a password (scram-sha-256), like the
engine will in production. Anything that stops the server from starting raises
:class:`PostgresUnavailable` with the reason and the end of the server's log.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

FALLBACK_USER = "assembly-pg"
SUPERUSER = "postgres"
ENGINE_ROLE = "engine"  # what the engine signs in as: no superuser, owns its database
START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's binaries are missing or the server would not start (the message says why)."""


def find_bin_dir(root: Path = Path("/usr/lib/postgresql")) -> Path:
    """The newest ``<root>/<major>/bin`` holding initdb and pg_ctl (Debian's layout)."""
    found = []
    for candidate in root.glob("*/bin"):
        if (
            (candidate / "initdb").is_file()
            and (candidate / "pg_ctl").is_file()
            and candidate.parent.name.isdigit()
        ):
            found.append((int(candidate.parent.name), candidate))
    if not found:
        raise PostgresUnavailable(
            f"PostgreSQL's server binaries are not installed (no {root}/*/bin/initdb): "
            "run tools/ensure_postgresql.sh (make test does) or apt-get install postgresql"
        )
    return max(found)[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """The unprivileged account the binaries run as; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in (SUPERUSER, FALLBACK_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    done = subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            FALLBACK_USER,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"running as root, and the system user {FALLBACK_USER!r} for "
            f"PostgreSQL could not be created: {done.stderr.strip()}"
        )
    return FALLBACK_USER


class PostgresServer:
    """One throwaway server. ``durable=False`` turns fsync, synchronous_commit and
    full_page_writes off (faster, for tests that do not depend on durability)."""

    def __init__(self, *, durable: bool = True) -> None:
        self.durable = durable
        self.bin_dir = find_bin_dir()
        self.user = _server_user()
        self.password = secrets.token_hex(16)
        self.engine_password = secrets.token_hex(16)
        self.port = 0
        self.base: Path | None = None

    # -- paths and commands ------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        assert self.base is not None
        return self.base / "data"

    @property
    def log_path(self) -> Path:
        assert self.base is not None
        return self.base / "server.log"

    def url(self, database: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        secret = quote(self.password if password is None else password, safe="")
        return f"postgresql://{quote(user, safe='')}:{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str = "template1") -> tuple[str, str]:
        """A new database owned by the engine's role, a copy of ``template`` (an empty one
        by default): (its name, the engine's URL of it)."""
        name = f"engine_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ENGINE_ROLE,)).fetchone() is None:
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                        sql.Identifier(ENGINE_ROLE), sql.Literal(self.engine_password)
                    )
                )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(ENGINE_ROLE), sql.Identifier(template)
                )
            )
        return name, self.url(name, ENGINE_ROLE, self.engine_password)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _run(
        self, tool: str, args: Sequence[str], timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin_dir / tool), *args]
        if self.user is not None:
            argv = ["runuser", "-u", self.user, "--", *argv]
        # cwd: the server user may not be allowed into ours (root's home, pytest's tmp).
        return subprocess.run(
            argv,
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> PostgresServer:
        self.base = Path(tempfile.mkdtemp(prefix="assembly-pg-"))
        try:
            if self.user is not None:
                shutil.chown(self.base, user=self.user)
                if not self._reachable():
                    raise PostgresUnavailable(
                        f"the server user {self.user!r} cannot reach {self.base} (a parent folder is "
                        "closed to it); point TMPDIR at a folder others may traverse, such as /tmp"
                    )
            self._initdb()
            self._start_on_a_free_port()
        except BaseException:
            self.stop()
            raise
        return self

    def _reachable(self) -> bool:
        assert self.user is not None and self.base is not None
        return (
            subprocess.run(
                ["runuser", "-u", self.user, "--", "test", "-w", str(self.base)],
                capture_output=True,
                timeout=60,
                check=False,
            ).returncode
            == 0
        )

    def _initdb(self) -> None:
        assert self.base is not None
        password_file = self.base / "password"
        password_file.write_text(self.password + "\n", encoding="ascii")
        if self.user is not None:
            shutil.chown(password_file, user=self.user)
        done = self._run(
            "initdb",
            [
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(password_file),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-instructions",
            ],
        )
        password_file.unlink()
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed ({done.returncode}): {done.stderr.strip()}")
        fast = "" if self.durable else "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "\n# throwaway test server\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.base}'\n"
                "shared_buffers = 64MB\n"
                "logging_collector = off\n" + fast
            )

    def _pg_ctl_start(self) -> subprocess.CompletedProcess[str]:
        return self._run(
            "pg_ctl",
            [
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {self.port}",
                "start",
            ],
        )

    def _start_on_a_free_port(self) -> None:
        problem = ""
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            done = self._pg_ctl_start()
            if done.returncode == 0:
                return
            problem = f"{done.stdout.strip()} {done.stderr.strip()}".strip()
            if not re.search(r"could not bind|Address already in use", self._log_tail()):
                break
        raise PostgresUnavailable(f"pg_ctl start failed: {problem}\n--- server log ---\n{self._log_tail()}")

    def halt(self, mode: str = "immediate") -> None:
        """Stop the server but keep its data (``immediate``: like a crash, no checkpoint)."""
        done = self._run("pg_ctl", ["-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop"])
        if done.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl stop failed: {done.stdout} {done.stderr}")

    def resume(self) -> None:
        """Start the halted server again on the same port (its clients reconnect there)."""
        done = self._pg_ctl_start()
        if done.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl start failed: {done.stderr}\n{self._log_tail()}")

    def stop(self) -> None:
        """Stop the server (fast shutdown, immediate if that fails) and remove its folder."""
        if self.base is None:
            return
        # postmaster.pid, not our own bookkeeping: a start that timed out may still be running.
        if (self.data_dir / "postmaster.pid").exists():
            done = self._run("pg_ctl", ["-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop"])
            if done.returncode != 0:
                self._run("pg_ctl", ["-D", str(self.data_dir), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
