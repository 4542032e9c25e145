"""A throwaway PostgreSQL cluster of the test's own (initdb under /tmp, its own port), so a test
can stop and start a database server without touching the machine's shared one."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def binaries() -> Path | None:
    """The newest PostgreSQL server binaries on this machine (Debian's layout), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, bin_dir: Path, data: Path, port: int, run_as: list[str]):
        self.bin_dir, self.data, self.port, self.run_as = bin_dir, data, port, run_as
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/beatbook"

    def _pg_ctl(self, *args: str) -> None:
        command = [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            log = (self.data / "log").read_text()[-2000:] if (self.data / "log").exists() else ""
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {done.stderr}\n{log}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
            "-c shared_buffers=16MB -c max_connections=40"
        )
        self._pg_ctl("-w", "-t", "60", "-l", str(self.data / "log"), "-o", options, "start")

    def crash(self) -> None:
        """Stop at once, as a crash would: backends die, the next start replays the WAL."""
        self._pg_ctl("-w", "-m", "immediate", "stop")


@contextmanager
def private_postgres() -> Iterator[Cluster]:
    """A fresh cluster with a database `beatbook`, trusted on 127.0.0.1; removed afterwards."""
    bin_dir = binaries()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server binaries under /usr/lib/postgresql")
    # PostgreSQL will not run as root: as root, run it as the system's postgres user.
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="beatbook-pg-"))
    data = root / "data"
    try:
        if run_as:
            shutil.chown(root, "postgres", "postgres")
        subprocess.run(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster = Cluster(bin_dir, data, _free_port(), run_as)
        cluster.start()
        try:
            subprocess.run(
                [
                    *run_as,
                    str(bin_dir / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(cluster.port),
                    "-U",
                    "postgres",
                    "beatbook",
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            yield cluster
        finally:
            try:
                cluster.crash()
            except RuntimeError:
                pass  # already stopped
    finally:
        shutil.rmtree(root, ignore_errors=True)
