"""A throwaway PostgreSQL cluster: initdb in a temporary folder, served on a Unix socket there.

For the tests (one cluster per test session, a database per test) and the load benchmark.
initdb refuses to run as root, so as root (CI) the cluster belongs to the `postgres` system
user that Debian's package creates; otherwise to the current user. No TCP port is opened:
the server listens only on a socket in its own folder, so clusters never collide.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "agentdesk"
# Tests want speed, not durability: a crash of the test machine loses nothing of value.
FAST = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: $PG_BIN, else pg_config's answer, else Debian's folder."""
    candidates = [os.environ.get("PG_BIN", "")]
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


class Cluster:
    """A running throwaway cluster; `url(name)` connects to one of its databases."""

    def __init__(self, folder: Path | None = None, *, durable: bool = False,
                 max_connections: int = 200, settings: tuple[str, ...] = ()) -> None:
        """A new cluster in a temporary folder (removed by `stop`), or the one kept in
        `folder` (made there the first time, kept by `stop`: the load benchmark's).
        `durable`: fsync as in production; `settings`: more `name=value` for the server."""
        found = bin_dir()
        if found is None:
            raise FileNotFoundError("no PostgreSQL server found (initdb); install postgresql")
        self.bin = found
        self.keep = folder is not None
        self.folder = folder or Path(tempfile.mkdtemp(prefix="agentdesk-pg-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self.data = self.folder / "data"
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")
        options = ["-c", "listen_addresses=", "-c", f"unix_socket_directories={self.folder}",
                   "-c", f"max_connections={max_connections}", *(() if durable else FAST)]
        for setting in settings:
            options += ["-c", setting]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w",
                  "-o", " ".join(f"'{o}'" if "=" in o else o for o in options), "start")

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([*self._as, str(self.bin / program), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql:///{database}?host={quote(str(self.folder))}&user={SUPERUSER}"

    def tool(self, program: str) -> str:
        """The path of one of the cluster's programs (pg_dump, psql, ...)."""
        return str(self.bin / program)

    def create_database(self, name: str, template: str = "template0") -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.keep:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            return
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            for _ in range(3):
                shutil.rmtree(self.folder, ignore_errors=True)
                if not self.folder.exists():
                    break
                time.sleep(0.2)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
