"""Configuration mistakes and an unusable database: one plain line each, exit 2, no traceback,
from every command and from `beatbook serve` before it listens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main
from server.config import DEFAULTS, ConfigError, from_environment, validate

REPO = Path(__file__).resolve().parents[2]
BEATBOOK = [sys.executable, "-c", "from server.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(env: dict, *args: str):
    """`beatbook init-db` (or args) with only the given BEATBOOK_* variables."""
    return CliRunner().invoke(main, list(args) or ["init-db"], env=_clean_env(env))


def _clean_env(extra: dict) -> dict:
    unset = {k: None for k in os.environ if k.startswith("BEATBOOK_")}
    return {**unset, **extra}


def _lines(result) -> list[str]:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.stderr.strip().splitlines()


@pytest.mark.parametrize(
    "url,says",
    [
        ("foo", "'foo' is not a database URL"),
        ("mysql://beatbook@db/beatbook", "mysql:// is not supported"),
        ("postgresql+asyncpg://u@h/db", "the driver 'asyncpg' is not supported"),
        ("sqlite:////no/such/folder/beatbook.sqlite", "the folder /no/such/folder"),
    ],
)
def test_a_database_url_that_cannot_work_is_one_line(url, says):
    result = _run({"BEATBOOK_DATABASE_URL": url})
    assert result.exit_code == 2
    [line] = _lines(result)
    assert line.startswith("beatbook: BEATBOOK_DATABASE_URL: ") and says in line
    assert "e.g. BEATBOOK_DATABASE_URL=postgresql://" in line


def test_a_refused_port_is_one_line():
    url = f"postgresql://postgres@127.0.0.1:{_free_port()}/beatbook"
    result = _run({"BEATBOOK_DATABASE_URL": url})
    assert result.exit_code == 2
    [line] = _lines(result)
    assert "BEATBOOK_DATABASE_URL: cannot use the database" in line and "refused" in line


def test_a_missing_postgres_database_is_one_line(database_server):
    if not database_server:
        pytest.skip("needs PostgreSQL (BEATBOOK_TEST_DATABASE_URL)")
    import sqlalchemy as sa

    url = sa.make_url(database_server).set(database="beatbook_no_such_db")
    result = _run({"BEATBOOK_DATABASE_URL": url.render_as_string(hide_password=False)})
    assert result.exit_code == 2
    [line] = _lines(result)
    assert 'database "beatbook_no_such_db" does not exist' in line


def test_a_file_that_is_not_a_database_is_one_line(tmp_path):
    (tmp_path / "notes.sqlite").write_text("not a database")
    result = _run({"BEATBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'notes.sqlite'}"})
    assert result.exit_code == 2
    [line] = _lines(result)
    assert "file is not a database" in line


def test_every_mistake_is_its_own_line(tmp_path):
    result = _run(
        {
            "BEATBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
            "BEATBOOK_MAX_CHANGES": "lots",
            "BEATBOOK_SESSION_HOURS": "0",
            "BEATBOOK_ENV": "prod",
            "BEATBOOK_CATALOGUE_DIR": str(tmp_path / "nope"),
        },
        "team",
        "add",
        "NPT-X",
        "--name",
        "X",
    )
    assert result.exit_code == 2
    assert _lines(result) == [
        "beatbook: BEATBOOK_ENV: 'prod' is not one of development, production "
        "(e.g. BEATBOOK_ENV=production)",
        "beatbook: BEATBOOK_MAX_CHANGES: 'lots' is not a whole number "
        "(e.g. BEATBOOK_MAX_CHANGES=500)",
        "beatbook: BEATBOOK_SESSION_HOURS: 0 must be at least 1 (e.g. BEATBOOK_SESSION_HOURS=8)",
        f"beatbook: BEATBOOK_CATALOGUE_DIR: {tmp_path / 'nope'} is not a folder "
        "(e.g. BEATBOOK_CATALOGUE_DIR=/etc/beatbook/standards)",
    ]


def test_an_unknown_catalogue_is_one_line(tmp_path):
    result = _run(
        {
            "BEATBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
            "BEATBOOK_CATALOGUE": "kent",
        }
    )
    assert result.exit_code == 2
    [line] = _lines(result)
    assert line.startswith("beatbook: BEATBOOK_CATALOGUE: no catalogue named 'kent'")
    assert "e.g. BEATBOOK_CATALOGUE=dorset" in line


def test_a_pwa_dir_without_the_app_is_refused(tmp_path):
    result = _run(
        {
            "BEATBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
            "BEATBOOK_PWA_DIR": str(tmp_path),
        }
    )
    assert result.exit_code == 2
    [line] = _lines(result)
    assert line.startswith(f"beatbook: BEATBOOK_PWA_DIR: {tmp_path} holds no officers' app")


def test_good_settings_pass_and_parse():
    assert from_environment({"BEATBOOK_MAX_CHANGES": "1_000", "BEATBOOK_CATALOGUE": "x"}) == {
        "MAX_CHANGES": 1000,
        "CATALOGUE": "x",
    }
    assert validate({**DEFAULTS, "DATABASE_URL": "postgres://u@h/db"}) == []
    assert validate({**DEFAULTS, "DATABASE_URL": "sqlite://"}) == []
    with pytest.raises(ConfigError) as raised:
        from_environment({"BEATBOOK_MAX_CHANGES": "lots", "BEATBOOK_QUIET_DAYS": "a week"})
    assert len(raised.value.problems) == 2
    assert from_environment({"BEATBOOK_MAX_CHANGES": "lots"}, strict=False) == {
        "MAX_CHANGES": "lots"
    }


def _serve(tmp_path, url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEATBOOK_")}
    env.update(BEATBOOK_DATABASE_URL=url, BEATBOOK_SECRET_KEY="a-test-secret-of-some-length")
    return subprocess.run(
        [*BEATBOOK, "serve", "--port", str(_free_port()), "--workers", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_with_an_unreachable_database_never_listens(tmp_path):
    # It used to start, answer 200 on / and 500 on the first sign-in.
    result = _serve(tmp_path, f"postgresql://postgres@127.0.0.1:{_free_port()}/beatbook")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "Listening" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("beatbook: BEATBOOK_DATABASE_URL: cannot use the database")


def test_serve_on_a_database_without_tables_says_init_db(tmp_path):
    result = _serve(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "Listening" not in result.stderr
    assert "run `beatbook init-db`" in result.stderr
