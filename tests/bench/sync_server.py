"""A real Beatbook server for the sync bench: `beatbook serve` (gunicorn) on a fresh database.

The database is set up with the CLI as an operator would (init-db, a team, an officer), the
server is started on a free port in its own process group and stopped with it. `Server.cpu()`
reads the CPU time its processes have used, and `Server.database_cpu()` that of the PostgreSQL
backends serving it (PostgreSQL runs on this machine), so the bench can tell the server's own
cost from time spent waiting for a busy machine.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
PG_BASE = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
USERNAME = "pc.bench"
PASSWORD = "beatbook-bench-password"
_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pids: list[int]) -> float:
    """Seconds of CPU (user + system) the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # a process that has gone
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


@dataclass
class Server:
    url: str
    pids: list[int]  # gunicorn's arbiter and its workers
    database: sa.Connection | None = None  # PostgreSQL only: to find the backends serving it

    def cpu(self) -> float:
        return process_cpu(self.pids)

    def database_cpu(self) -> float:
        """CPU seconds of the PostgreSQL backends now connected to the server's database."""
        if self.database is None:
            return 0.0
        pids = (
            self.database.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            .scalars()
            .all()
        )
        return process_cpu(list(pids))

    def sign_in(self, http: requests.Session) -> str:
        """Sign a phone in on `http`; returns its device id."""
        response = http.post(
            f"{self.url}/api/v1/auth/device",
            json={"username": USERNAME, "password": PASSWORD, "device_name": "Bench phone"},
        )
        response.raise_for_status()
        body = response.json()
        http.headers["Authorization"] = f"Bearer {body['token']}"
        return body["device_id"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _beatbook() -> str:
    script = Path(sys.executable).with_name("beatbook")
    return str(script) if script.exists() else shutil.which("beatbook") or "beatbook"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def temporary_postgres(base: str = PG_BASE) -> Iterator[str]:
    """A fresh PostgreSQL database `beatbook_bench_<random>`, dropped afterwards."""
    name = f"beatbook_bench_{secrets.token_hex(5)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_available(base: str = PG_BASE) -> bool:
    try:
        engine = sa.create_engine(base, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "skip PostgreSQL", and the report says so
        return False


def start_serve(
    env: dict, workdir: Path, workers: int = 2, port: int | None = None
) -> tuple[subprocess.Popen, str, IO[str]]:
    """`beatbook serve` in its own process group on `port` (a free one by default), once it
    answers and all its workers are up; returns the process, its URL and its open log file."""
    port = port or _free_port()
    log = open(workdir / f"gunicorn-{port}.log", "a")
    process = subprocess.Popen(
        [_beatbook(), "serve", "--dev", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            log.close()
            raise RuntimeError(f"the server exited; see {log.name}")
        try:
            if requests.get(f"{url}/api/v1/schema", timeout=2).status_code == 200:
                if len(_children(process.pid)) >= workers:
                    return process, url, log
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            log.close()
            raise RuntimeError(f"the server did not start in 60 s; see {log.name}")
        time.sleep(0.2)


@contextmanager
def running_server(database_url: str, workdir: Path, workers: int = 2) -> Iterator[Server]:
    """init-db, a team and an officer via the CLI, then `beatbook serve` on a free port."""
    # PYTHONPATH: serve the tree this file is in, whichever checkout the venv was installed from.
    env = {**os.environ, "BEATBOOK_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    cli = _beatbook()

    def command(*args: str, stdin: str | None = None) -> None:
        done = subprocess.run(
            [cli, *args], env=env, input=stdin, text=True, capture_output=True, cwd=ROOT
        )
        if done.returncode:
            raise RuntimeError(f"beatbook {' '.join(args)} failed:\n{done.stderr[-2000:]}")

    command("init-db")
    command("team", "add", "NPT-BENCH", "--name", "Bench Town NPT")
    command(
        "user",
        "add",
        USERNAME,
        "--role",
        "officer",
        "--team",
        "NPT-BENCH",
        "--name",
        "PC 0001 Bench",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    process, url, log = start_serve(env, workdir, workers)
    try:
        server = Server(url, [process.pid, *_children(process.pid)])
        if database_url.startswith("postgresql"):
            engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as server.database:
                yield server
            engine.dispose()
        else:
            yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the group we started: arbiter and workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
