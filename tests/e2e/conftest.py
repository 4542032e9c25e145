"""Browser tests of the officers' app: the real Flask server (gunicorn, temp SQLite) and Debian's
Chromium driven by Playwright.

A seeded database is made once per session and copied for each test,
so every test starts clean. The `server` fixture can stop and restart on the same port and
database (a phone's server going away mid-sync).
"""

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
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BEATBOOK_TEST_CHROMIUM", "/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "e2e-Password-4711"
TEAM, OTHER_TEAM = "NPT-A", "NPT-B"
OFFICERS = {"pc.one": TEAM, "pc.two": TEAM, "pc.bravo": OTHER_TEAM}
SUPERVISOR = "sgt.alpha"
PHONE = {"width": 360, "height": 740}
PIN = "482915"  # what the test officers choose when the app asks for a PIN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory) -> Path:
    """One database with two teams and three officers, made with the app's own functions."""
    from server import create_app
    from server.accounts.people import add_team, add_user
    from server.db import db
    from server.db.create import init_db

    path = tmp_path_factory.mktemp("seed") / "beatbook.sqlite"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "e2e", "TESTING": True})
    with app.app_context():
        init_db()
        add_team(TEAM, "Alpha NPT")
        add_team(OTHER_TEAM, "Bravo NPT")
        for username, team in OFFICERS.items():
            add_user(username, PASSWORD, "officer", team, username.upper())
        add_user(SUPERVISOR, PASSWORD, "supervisor", TEAM, "Sgt Alpha")
        db.session.remove()
        db.engine.dispose()
    return path


class LiveServer:
    """gunicorn serving create_app() on 127.0.0.1:<port>; stop() and start() keep port and DB."""

    def __init__(self, db_path: Path, pwa_dir: Path, log_path: Path):
        self.db_path = db_path
        self.pwa_dir = pwa_dir
        self.log_path = log_path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "BEATBOOK_DATABASE_URL": f"sqlite:///{db_path}",
            "BEATBOOK_SECRET_KEY": "e2e",
            "BEATBOOK_PWA_DIR": str(pwa_dir),
        }

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "-w",
                    "1",
                    "--threads",
                    "4",
                    "--graceful-timeout",
                    "2",
                    "server:create_app()",
                ],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start in 30 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def pwa_dir(tmp_path) -> Path:
    """A copy of the app, so a test can publish a "new version" of it."""
    target = tmp_path / "pwa"
    shutil.copytree(REPO / "pwa", target)
    return target


@pytest.fixture
def server(seeded_db, tmp_path, pwa_dir):
    db_path = tmp_path / "beatbook.sqlite"
    shutil.copy(seeded_db, db_path)
    live = LiveServer(db_path, pwa_dir, tmp_path / "server.log")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        # A quiet skip made `make test` green with the browser tests not run: say so instead.
        if os.environ.get("BEATBOOK_SKIP_BROWSER") == "1":
            pytest.skip(f"BEATBOOK_SKIP_BROWSER=1 and no Chromium at {CHROMIUM}")
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: apt-get install chromium, or set "
            "BEATBOOK_SKIP_BROWSER=1 to skip the browser tests",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-gpu",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, server):
    """A new phone: a fresh browser context at 360x740 on the app. Call it for more phones."""
    contexts = []

    def make(**options):
        context = browser.new_context(
            viewport=PHONE,
            base_url=server.url,
            service_workers="allow",
            locale="en-GB",
            timezone_id="Europe/London",
            **options,
        )
        context.set_default_timeout(15000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


class ApiClient:
    """The server as another device sees it, through the documented API."""

    def __init__(self, base_url: str, username: str):
        self.base_url = base_url
        response = requests.post(
            f"{base_url}/api/v1/auth/device",
            timeout=10,
            json={"username": username, "password": PASSWORD, "device_name": "e2e checker"},
        )
        assert response.status_code == 201, response.text
        self.token = response.json()["token"]
        self.device_id = response.json()["device_id"]

    def create_record(self, summary: str, kind: str = "face_to_face", standards=("F2F",)) -> str:
        """Make a record from this user's device through push (another officer's phone)."""
        import uuid
        from datetime import datetime, timedelta, timezone

        now = datetime.now(timezone.utc)
        record_id = str(uuid.uuid4())
        data = {
            "schema_version": 2,
            "occurred_at": (now - timedelta(minutes=30)).isoformat(),
            "kind": kind,
            "standards": list(standards),
            "summary": summary,
        }
        response = requests.post(
            f"{self.base_url}/api/v1/sync/push",
            timeout=10,
            json={
                "device_id": self.device_id,
                "batch_id": str(uuid.uuid4()),
                "device_now": now.isoformat(),
                "pending": 0,
                "app_version": "e2e",
                "changes": [
                    {
                        "id": record_id,
                        "op": "upsert",
                        "base_rev": None,
                        "data": data,
                        "hlc": f"{int(now.timestamp() * 1000):015d}-00000-{self.device_id}",
                    }
                ],
            },
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        assert result["status"] == "applied", result
        return record_id

    def pull_all(self) -> dict[str, dict]:
        """Every record the user may see, by id (the latest state of each)."""
        records: dict[str, dict] = {}
        cursor = ""
        for _ in range(100):
            response = requests.get(
                f"{self.base_url}/api/v1/sync/pull",
                timeout=10,
                params={"since": cursor, "limit": 1000},
                headers={"Authorization": f"Bearer {self.token}"},
            )
            assert response.status_code == 200, response.text
            body = response.json()
            for change in body["changes"]:
                records[change["id"]] = change
            cursor = body["cursor"]
            if not body["more"]:
                return records
        raise AssertionError("pull never finished")


@pytest.fixture
def server_app(server):
    """Run a function in an app context on the live server's database (supervisor actions)."""
    from server import create_app
    from server.db import db

    app = create_app(
        {"DATABASE_URL": f"sqlite:///{server.db_path}", "SECRET_KEY": "e2e", "TESTING": True}
    )

    def run(fn):
        with app.app_context():
            try:
                result = fn(db)
                db.session.commit()
                return result
            finally:
                db.session.remove()

    yield run
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def api(server):
    return lambda username="pc.one": ApiClient(server.url, username)


# Screenshots refresh docs/screenshots/pwa-*.png only when asked (BEATBOOK_SCREENSHOTS=1), so a
# test run leaves the work tree clean.
SHOTS = (
    REPO / "docs" / "screenshots"
    if os.environ.get("BEATBOOK_SCREENSHOTS") == "1"
    else Path(os.environ.get("TMPDIR", "/tmp")) / "beatbook-screenshots"
)


def screenshot(page, name: str) -> None:
    """Save pwa-<name>.png once the toast has gone, from the top of the page."""
    import re

    SHOTS.mkdir(parents=True, exist_ok=True)
    expect(page.locator("#toast")).not_to_have_class(re.compile(r"\bshow\b"), timeout=8000)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(300)  # the toast's fade-out
    page.screenshot(path=str(SHOTS / f"pwa-{name}.png"))


SERIOUS = ("serious", "critical")
EVERY_IMPACT = ("minor", "moderate", "serious", "critical")


def run_axe(page, impacts: tuple[str, ...] = SERIOUS) -> list[dict]:
    """axe-core violations of these impacts (serious and critical unless asked) on the page as
    it is now."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` in the repository root")
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async (impacts) => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => impacts.includes(v.impact))
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""",
        list(impacts),
    )
    return result


def wait_until(page, js_function: str, timeout_s: float = 15.0, arg=None):
    """Poll a JS function until it returns something truthy. (wait_for_function evaluates
    strings with eval, which the app's strict CSP rightly forbids.)"""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(js_function, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {js_function}")
        time.sleep(0.1)


class Ui:
    """What an officer does with the app, in the words on the screen."""

    @staticmethod
    def open(context, path: str = "/"):
        page = context.new_page()
        page.goto(path)
        return page

    @staticmethod
    def wait_controlled(page) -> None:
        """Wait until the service worker controls the page (the shell is cached for offline)."""
        wait_until(
            page, "() => Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)"
        )

    @staticmethod
    def sign_in(page, username: str = "pc.one", device: str = "Test phone") -> None:
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Device name").fill(device)
        page.get_by_role("button", name="Sign in").click()
        Ui.choose_pin_if_asked(page)
        Ui.wait_controlled(page)
        Ui.wait_synced(page)

    @staticmethod
    def choose_pin_if_asked(page, pin: str = PIN) -> None:
        """A password sign-in ends on "Choose a PIN" (first time on this phone, or a PIN reset)
        or, when the queue was open already, on My log."""
        log = page.get_by_role("heading", name="My log")
        choose = page.get_by_role("heading", name="Choose a PIN")
        log.or_(choose).wait_for()
        if choose.is_visible():
            page.get_by_label("PIN", exact=True).fill(pin)
            page.get_by_label("PIN again").fill(pin)
            page.get_by_role("button", name="Set PIN").click()
        log.wait_for()

    @staticmethod
    def unlock(page, pin: str = PIN) -> None:
        page.get_by_role("heading", name="Enter your PIN").wait_for()
        page.get_by_label("PIN", exact=True).fill(pin)
        page.get_by_role("button", name="Unlock").click()

    @staticmethod
    def new_record(
        page, summary: str, kind: str = "Face-to-face contact", people: int | None = None
    ):
        page.get_by_role("button", name="New record").click()
        page.get_by_role("radiogroup", name="Kind").get_by_role(
            "radio", name=kind, exact=True
        ).check()
        page.get_by_label("Summary").fill(summary)
        if people is not None:
            page.get_by_label("People", exact=True).fill(str(people))
        page.get_by_role("button", name="Save").click()
        page.get_by_role("heading", name="My log").wait_for()

    @staticmethod
    def edit_record(page, card_text: str, summary: str | None = None, people: int | None = None):
        Ui.card(page, card_text).get_by_role("button", name="Edit").click()
        page.get_by_role("heading", name="Edit record").wait_for()
        if summary is not None:
            page.get_by_label("Summary").fill(summary)
        if people is not None:
            page.get_by_label("People", exact=True).fill(str(people))
        page.get_by_role("button", name="Save").click()
        page.get_by_role("heading", name="My log").wait_for()

    @staticmethod
    def card(page, text: str):
        return page.locator("li.card").filter(has_text=text)

    @staticmethod
    def status(page):
        return page.locator("#sync-line")

    @staticmethod
    def sync_now(page) -> None:
        page.get_by_role("button", name="Sync now").click()
        wait_until(page, "() => !document.querySelector('.sync-now').disabled")

    @staticmethod
    def wait_synced(page, timeout_s: float = 20.0) -> None:
        expect(page.locator("#sync-line")).to_have_text(
            "All changes synced", timeout=timeout_s * 1000
        )

    @staticmethod
    def two_phones_with_one_record(phone, summary: str, people: int):
        """pc.one signed in on Phone A and Phone B; A records `summary`, B has pulled it.
        Returns (context A, context B, page A, page B)."""
        ctx_a, ctx_b = phone(), phone()
        a, b = Ui.open(ctx_a), Ui.open(ctx_b)
        Ui.sign_in(a, "pc.one", device="Phone A")
        Ui.sign_in(b, "pc.one", device="Phone B")
        Ui.new_record(a, summary, people=people)
        Ui.wait_synced(a)
        Ui.sync_now(b)
        Ui.card(b, summary).wait_for()
        return ctx_a, ctx_b, a, b

    @staticmethod
    def edit_offline_on_both(contexts, pages, card_text: str, edits) -> None:
        """Both phones lose signal, each makes its edit of the same record, then A comes back
        and syncs, then B, and A pulls what B sent."""
        for context in contexts:
            context.set_offline(True)
        for page, edit in zip(pages, edits):
            Ui.edit_record(page, card_text, **edit)
        for context, page in zip(contexts, pages):
            context.set_offline(False)
            Ui.wait_synced(page)
        Ui.sync_now(pages[0])

    @staticmethod
    def outbox(page) -> list[dict]:
        """The app's outbox as the unlocked app reads it (a read-only look, decrypted with the
        key the app holds; entries of an officer whose key is shut keep only their clear keys)."""
        return page.evaluate("""async () => {
            const { openRow } = await import('/js/sealed.js');
            const rows = await new Promise((resolve, reject) => {
                const open = indexedDB.open('beatbook');
                open.onsuccess = () => {
                    const db = open.result;
                    const req = db.transaction('outbox').objectStore('outbox').getAll();
                    req.onsuccess = () => { db.close(); resolve(req.result); };
                    req.onerror = () => reject(req.error);
                };
                open.onerror = () => reject(open.error);
            });
            // Another officer's entries (their key is not open) show only their clear keys.
            const shut = ({ seq, user, recordId }) => ({ seq, user, recordId, sealed: true });
            return Promise.all(rows.map((row) => openRow('outbox', row).catch(() => shut(row))));
        }""")

    @staticmethod
    def stored(page) -> dict[str, list]:
        """Every row of every store as IndexedDB holds it, bytes as latin-1 text (so text stored
        in clear anywhere, even inside a byte array, would be found by a search)."""
        return page.evaluate("""() => new Promise((resolve, reject) => {
            const open = indexedDB.open('beatbook');
            open.onsuccess = () => {
                const db = open.result;
                const names = [...db.objectStoreNames];
                const tx = db.transaction(names);
                const out = {};
                const plain = (v) => {
                    if (v instanceof ArrayBuffer) v = new Uint8Array(v);
                    if (v instanceof Uint8Array) return String.fromCharCode(...v);
                    if (Array.isArray(v)) return v.map(plain);
                    if (v && typeof v === 'object') {
                        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
                    }
                    return v;
                };
                for (const name of names) {
                    tx.objectStore(name).getAll().onsuccess = (e) => {
                        out[name] = e.target.result.map(plain);
                    };
                }
                tx.oncomplete = () => { db.close(); resolve(out); };
                tx.onerror = () => reject(tx.error);
            };
            open.onerror = () => reject(open.error);
        })""")


@pytest.fixture
def ui():
    return Ui
