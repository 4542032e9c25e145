"""The production install: build the sdist and the wheel, pip-install the wheel (not editable)
into a fresh venv, and serve everything from there: the officers' app, the console and the
public pages. A checkout serves pwa/ from the repository, so only this test sees what a force
that runs `pip install beatbook` gets.

Needs the package registry (pip resolves the wheel's dependencies; its cache makes reruns quick).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[1]
PWA = REPO / "pwa"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def _app_files() -> set[str]:
    """What the server serves from pwa/ (its README is for developers)."""
    return {
        p.relative_to(PWA).as_posix()
        for p in PWA.rglob("*")
        if p.is_file() and p.name != "README.md"
    }


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist, then the wheel built from that sdist (as pip and `python -m build` do)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)])
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("venv") / "venv"
    _run([sys.executable, "-m", "venv", str(home)])
    [wheel] = dist.glob("beatbook-*.whl")
    _run(
        [
            str(home / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(wheel),
        ],
        env=_env(),
    )
    return home


def _env(**extra) -> dict:
    """The environment without this checkout on the path and without BEATBOOK_* settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BEATBOOK_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    return {**env, **extra}


def test_the_sdist_and_the_wheel_carry_the_whole_app(dist):
    [sdist] = dist.glob("beatbook-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {f"pwa/{f}" for f in _app_files()} <= names
    [wheel] = dist.glob("beatbook-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {f"server/_pwa/{f}" for f in _app_files()} <= names
    for served in (
        "server/templates/base.html",
        "server/static/console.css",
        "schema/vocabularies.json",
    ):
        assert served in names


def test_the_installed_server_serves_the_app_the_console_and_the_public_pages(venv, tmp_path):
    beatbook = str(venv / "bin" / "beatbook")
    located = _run(
        [str(venv / "bin" / "python"), "-c", "import server; print(server.__file__)"],
        cwd=tmp_path,
        env=_env(),
    ).stdout.strip()
    assert located.startswith(str(venv)), located  # the installed copy, not this checkout

    # With no BEATBOOK_DATABASE_URL the database is in the venv (what the README says).
    env = _env(BEATBOOK_SECRET_KEY="a-test-secret-of-some-length")
    ready = _run([beatbook, "init-db"], cwd=tmp_path, env=env).stdout
    assert f"sqlite:///{venv}/var/server-instance/beatbook.sqlite" in ready
    _run([beatbook, "team", "add", "NPT-WEY", "--name", "Weymouth Town NPT"], cwd=tmp_path, env=env)
    assert _run([beatbook, "--version"], env=env).stdout.startswith("Beatbook ")

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [beatbook, "serve", "--port", str(port), "--workers", "1"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(base, server, log)
        for path, source in [
            ("/", "index.html"),
            ("/sw.js", "sw.js"),
            ("/manifest.webmanifest", "manifest.webmanifest"),
            ("/js/app.js", "js/app.js"),
            ("/css/app.css", "css/app.css"),
        ]:
            response = requests.get(base + path, timeout=10)
            assert response.status_code == 200, path
            assert response.content == (PWA / source).read_bytes(), path
        assert requests.get(base + "/icons/icon-192.png", timeout=10).status_code == 200

        sign_in = requests.get(base + "/console/sign-in", timeout=10)
        assert sign_in.status_code == 200 and 'name="password"' in sign_in.text
        assert requests.get(base + "/static/console.css", timeout=10).status_code == 200
        public = requests.get(base + "/teams/NPT-WEY", timeout=10)
        assert public.status_code == 200 and "Weymouth Town NPT" in public.text
        assert "Weymouth Town NPT" in requests.get(base + "/teams", timeout=10).text
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(base + "/api/v1/schema", timeout=5)
            return
        except requests.ConnectionError:
            if server.poll() is not None:
                pytest.fail(f"beatbook serve exited {server.returncode}: {log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail("beatbook serve did not answer within 60 s")
            time.sleep(0.2)
