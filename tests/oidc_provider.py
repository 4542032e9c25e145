"""A real OpenID Connect provider for the tests: tests/oidc/provider.mjs (the npm package
oidc-provider) run with Node on a free port of 127.0.0.1, and what a test does with it.

Its directory: sgt.oidc (group beatbook-supervisors-npt-a), pc.oidc (beatbook-officers-npt-a)
and civ.nogroup (finance: no Beatbook group), all with PROVIDER_PASSWORD.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "oidc" / "provider.mjs"
PROVIDER_PASSWORD = "provider-Password-1"
CLIENT_ID, CLIENT_SECRET = "beatbook", "beatbook-test-secret"
MAPPING = {
    "ask": "the Beatbook administrators at the IT service desk (ext. 4711)",
    "claims": ["groups"],
    "rules": [
        {"value": "beatbook-supervisors-npt-a", "role": "supervisor", "team": "NPT-A"},
        {"value": "beatbook-officers-npt-a", "role": "officer", "team": "NPT-A"},
    ],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Provider:
    def __init__(
        self, redirect_uris: list[str], backchannel_uri: str = "", log: Path | None = None
    ):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.redirect_uris = redirect_uris
        self.backchannel_uri = backchannel_uri
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Provider:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "OIDC_PORT": str(self.port),
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REDIRECT_URIS": ",".join(self.redirect_uris),
            "OIDC_BACKCHANNEL_URI": self.backchannel_uri,
            "OIDC_PASSWORD": PROVIDER_PASSWORD,
        }
        if self.log:
            with open(self.log, "ab") as out:  # the child keeps its own copy of the file
                self.proc = subprocess.Popen(
                    ["node", str(SCRIPT)], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
                )
        else:
            self.proc = subprocess.Popen(
                ["node", str(SCRIPT)], cwd=REPO, env=env, stdout=subprocess.DEVNULL
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the test provider exited ({self.proc.returncode})")
            try:
                url = f"{self.issuer}/.well-known/openid-configuration"
                if requests.get(url, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the test provider did not start in 30 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def config(self, mapping_path: Path) -> dict:
        """Beatbook's settings for this provider (the mapping file is written here)."""
        mapping_path.write_text(json.dumps(MAPPING))
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_NAME": "Test Constabulary",
            "OIDC_MAPPING": str(mapping_path),
        }

    def control(self, *path: str) -> dict:
        response = requests.post(f"{self.issuer}/test/{'/'.join(path)}", timeout=10)
        response.raise_for_status()
        return response.json()

    def disable(self, login: str) -> None:
        self.control("users", login, "disable")

    def enable(self, login: str) -> None:
        self.control("users", login, "enable")

    def logout(self, login: str) -> None:
        """The provider sends Beatbook a back-channel logout for the user (oidc-provider's own)."""
        self.control("users", login, "logout")

    def tamper(self, mode: str) -> None:
        """Alter the next ID token: wrong_aud, wrong_iss, wrong_nonce, expired, bad_signature
        (none: stop)."""
        self.control("tamper", mode)

    def sign_in(self, auth_url: str, login: str, password: str = PROVIDER_PASSWORD) -> str:
        """Go through the provider's pages as a browser would; return the URL it sends the
        browser back to (Beatbook's callback with code and state), or raise with its page."""
        browser = requests.Session()
        url, method, data = auth_url, "GET", None
        for _ in range(12):
            response = browser.request(method, url, data=data, allow_redirects=False, timeout=10)
            if response.is_redirect:
                url, method, data = urljoin(url, response.headers["Location"]), "GET", None
                if any(url.startswith(uri) for uri in self.redirect_uris):
                    return url
                continue
            if 'name="login"' in response.text and data is None:
                action = response.text.split('action="', 1)[1].split('"', 1)[0]
                url, method = urljoin(url, action), "POST"
                data = {"login": login, "password": password}
                continue
            raise AssertionError(f"provider page {response.status_code}: {response.text[:500]}")
        raise AssertionError("too many redirects at the provider")
