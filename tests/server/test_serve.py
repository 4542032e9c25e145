"""`beatbook serve`: gunicorn with production settings, and HTTPS for phones."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BEATBOOK = [sys.executable, "-c", "from server.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEATBOOK_")}
    env.update(BEATBOOK_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite'}", **extra)
    return env


def test_production_refuses_to_start_without_a_secret(tmp_path):
    result = subprocess.run(
        [*BEATBOOK, "serve", "--port", str(_free_port())],
        cwd=REPO,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "BEATBOOK_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_serves_https_with_a_certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    env = _env(tmp_path, BEATBOOK_SECRET_KEY="a-test-secret-of-some-length")
    subprocess.run(
        [*BEATBOOK, "init-db"], cwd=REPO, env=env, check=True, timeout=60, capture_output=True
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            *BEATBOOK,
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(
                    f"https://127.0.0.1:{port}/api/v1/schema", verify=str(cert), timeout=5
                )
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert response.json()["schema_version"] == 2
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_access_log_keeps_paths_without_query_strings(tmp_path):
    env = _env(tmp_path)
    subprocess.run(
        [*BEATBOOK, "init-db"], cwd=REPO, env=env, check=True, timeout=60, capture_output=True
    )
    port = _free_port()
    log = tmp_path / "access.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [*BEATBOOK, "serve", "--dev", "--port", str(port), "--workers", "1"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    response = requests.get(
                        f"http://127.0.0.1:{port}/console/records?q=zebedee-secret-word",
                        headers={"Referer": f"http://127.0.0.1:{port}/console/records?q=other"},
                        allow_redirects=False,
                        timeout=5,
                    )
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.2)
            assert response.status_code == 302
        finally:
            server.terminate()
            server.wait(timeout=20)
    text = log.read_text()
    assert '"GET /console/records HTTP/1.1" 302' in text
    assert "zebedee" not in text and "q=other" not in text
