"""Single sign-on's settings (one line per mistake, exit 2) and BEATBOOK_LOCAL_SIGNIN=0."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from oidc_provider import MAPPING
from sqlalchemy import select

from server import create_app
from server.accounts.people import add_team, add_user
from server.config import DEFAULTS, ConfigError, finalise
from server.db import db
from server.db.create import init_db
from server.db.models import AccessLog


def _config(tmp_path, **changes):
    path = tmp_path / "oidc-mapping.json"
    if not path.exists():
        path.write_text(json.dumps(MAPPING))
    return {
        **DEFAULTS,
        "OIDC_ISSUER": "https://login.example.org/tenant/v2.0",
        "OIDC_CLIENT_ID": "beatbook",
        "OIDC_CLIENT_SECRET": "s3cret",
        "OIDC_MAPPING": str(path),
        **changes,
    }


def _problems(tmp_path, **changes) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        finalise(_config(tmp_path, **changes), str(tmp_path))
    return caught.value.problems


def test_good_settings_pass(tmp_path):
    finalise(_config(tmp_path), str(tmp_path))
    finalise(_config(tmp_path, OIDC_ISSUER="http://127.0.0.1:9000"), str(tmp_path))


def test_each_mistake_is_one_line_naming_its_variable(tmp_path):
    problems = _problems(
        tmp_path,
        OIDC_ISSUER="http://login.example.org",
        OIDC_CLIENT_ID="",
        OIDC_CLIENT_SECRET=None,
        OIDC_SCOPES="profile email",
    )
    assert [p.split(":")[0].split(" ")[0] for p in problems] == [
        "BEATBOOK_OIDC_ISSUER",
        "BEATBOOK_OIDC_CLIENT_ID",
        "BEATBOOK_OIDC_CLIENT_SECRET",
        "BEATBOOK_OIDC_SCOPES",
    ]
    assert all("\n" not in p for p in problems)


def test_the_mapping_file_is_checked_at_start_up(tmp_path):
    missing = _problems(tmp_path, OIDC_MAPPING=str(tmp_path / "nope.json"))
    assert missing == [
        f"BEATBOOK_OIDC_MAPPING: {tmp_path / 'nope.json'} does not exist "
        "(docs/operations.md, 'Single sign-on')"
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "rules": [
                    {"value": "g", "role": "chief"},
                    {"value": "h", "role": "officer"},
                    {"value": "i", "role": "admin", "team": "NPT-A"},
                ]
            }
        )
    )
    problems = _problems(tmp_path, OIDC_MAPPING=str(bad))
    assert len(problems) == 4
    assert "'ask' must say whom to ask" in problems[0]
    assert "rule 1: 'role' must be one of" in problems[1]
    assert "rule 2: an officer needs a 'team' code" in problems[2]
    assert "rule 3: an admin sees every team" in problems[3]
    bad.write_text("{not json")
    assert "cannot be read as JSON" in _problems(tmp_path, OIDC_MAPPING=str(bad))[0]


def test_the_default_mapping_lives_in_the_instance_folder(tmp_path):
    config = _config(tmp_path, OIDC_MAPPING=None)
    (tmp_path / "oidc-mapping.json").write_text(json.dumps(MAPPING))
    assert finalise(config, str(tmp_path))["OIDC_MAPPING"] == str(tmp_path / "oidc-mapping.json")


def test_local_sign_in_off_needs_single_sign_on(tmp_path):
    config = {**DEFAULTS, "LOCAL_SIGNIN": 0}
    with pytest.raises(ConfigError, match="BEATBOOK_LOCAL_SIGNIN=0 leaves no way to sign in"):
        finalise(config, str(tmp_path))
    with pytest.raises(ConfigError, match="BEATBOOK_LOCAL_SIGNIN: 2 is not 0 or 1"):
        finalise({**DEFAULTS, "LOCAL_SIGNIN": 2}, str(tmp_path))


def test_the_command_prints_the_lines_and_exits_2(tmp_path, monkeypatch):
    from server.cli import main

    monkeypatch.setenv("BEATBOOK_OIDC_ISSUER", "ftp://idp")
    monkeypatch.setenv("BEATBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'b.sqlite'}")
    monkeypatch.setenv("BEATBOOK_OIDC_MAPPING", str(tmp_path / "missing.json"))
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 2
    assert "BEATBOOK_OIDC_ISSUER: 'ftp://idp' is not an https:// address" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def passwords_off(tmp_path, database_server, oidc_settings):
    url = database_server or f"sqlite:///{tmp_path / 'beatbook.sqlite'}"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "LOCAL_SIGNIN": 0,
            "EMERGENCY_ADMIN": "break.glass",
            **oidc_settings,
        }
    )
    with app.app_context():
        if database_server:
            db.drop_all()
        init_db()
        add_user("break.glass", "emergency-Password-1", "admin", None)
        add_team("NPT-A", "Alpha NPT")
        add_user("pc.local", "local-Password-1", "officer", "NPT-A")
    yield app
    with app.app_context():
        db.session.remove()
        if database_server:
            db.drop_all()
        db.engine.dispose()


def test_passwords_off_leaves_single_sign_on_and_the_emergency_admin(passwords_off):
    client = passwords_off.test_client()
    page = client.get("/console/sign-in").get_data(as_text=True)
    assert "Sign in with Test Constabulary" in page
    assert "Emergency administrator sign-in" in page
    refused = client.post(
        "/console/sign-in", data={"username": "pc.local", "password": "local-Password-1"}
    )
    assert refused.status_code == 403
    assert "Beatbook passwords are switched off" in refused.get_data(as_text=True)
    phone = client.post(
        "/api/v1/auth/device",
        json={"username": "pc.local", "password": "local-Password-1", "device_name": "P"},
    )
    assert (
        phone.status_code == 403
        and "sign in with Test Constabulary" in (phone.get_json()["error"]["message"])
    )
    assert client.get("/api/v1/auth/methods").get_json()["password"] is False
    admin = client.post(
        "/console/sign-in", data={"username": "break.glass", "password": "emergency-Password-1"}
    )
    assert admin.status_code == 302 and admin.headers["Location"] == "/console/records"
    wrong = passwords_off.test_client().post(
        "/console/sign-in", data={"username": "break.glass", "password": "wrong-password-1"}
    )
    assert wrong.status_code == 401
    with passwords_off.app_context():
        reasons = db.session.scalars(
            select(AccessLog.detail).where(AccessLog.action == "sign_in_failed")
        ).all()
        assert [r["reason"] for r in reasons] == [
            "local_signin_off",
            "local_signin_off",
            "bad_credentials",
        ]
