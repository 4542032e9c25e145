"""Crash safety: 500-change batches pushed while `beatbook serve` is killed with SIGKILL.

One client pushes, in turn, from three phones (officer A on two of them, so A's records are
edited from two devices without seeing each other's writes, and officer B on the third): each
batch makes new records, edits records the officer already has (from a rev the phone may not
have seen the latest of) and deletes some. Meanwhile the server's whole process group (the
arbiter and every worker) is killed with SIGKILL at a random moment, then started again. A
batch that got no answer is sent again with the same batch id, as often as it takes.

The oracle is the pure engine (`sync.apply_batch` over a `MemoryStore`), fed the same batches in
the same order: the server must answer every batch with the oracle's results, answer a replay
exactly as it answered the batch the first time, and at the end each officer's pull must be the
oracle's records, field by field (value and stamp), with the same open conflicts; none missing,
none twice. On SQLite, `PRAGMA integrity_check` must then say ok.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from server.sync.pull import latest_conflicts
from sync import MAX_MILLIS, Change, MemoryStore, apply_batch
from tests.bench.sync_server import ROOT, start_serve

PASSWORD = "beatbook-crash-password"
TEAM = "NPT-CRASH"
BATCH = 500  # the protocol's most changes per push
# Compared with the oracle: the fields these batches write (the server adds `standards` on
# create from the catalogue, which the pure engine does not know).
COMPARED = ("occurred_at", "kind", "summary", "place", "people_count")


@dataclass
class Phone:
    officer: str
    url: str = ""
    token: str = ""
    device_id: str = ""
    millis: int = 0
    counter: int = 0
    known: dict[str, int] = field(default_factory=dict)  # record id -> rev this phone saw

    def stamp(self) -> str:
        """A hybrid logical clock's next stamp, as a phone makes them (unique, increasing)."""
        now = int(time.time() * 1000)
        if now > self.millis:
            self.millis, self.counter = now, 0
        else:
            self.counter += 1
        return f"{self.millis:015d}-{self.counter:05d}-{self.device_id}"


@dataclass
class Tally:
    rounds: int = 0
    kills: int = 0
    batches: int = 0
    changes: int = 0
    unanswered: int = 0  # sends that got no answer (the server died under them)
    committed_unanswered: int = 0  # of those, batches the server had committed before dying
    abandoned_ids: int = 0  # batch ids committed, then resent under a new id
    replays_checked: int = 0
    records: int = 0
    lost: int = 0
    duplicated: int = 0
    wrong: int = 0  # records whose state is not the oracle's
    errors: int = 0  # answers other than 200
    push_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.push_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0

    def summary(self) -> str:
        return (
            f"{self.kills} kills, {self.batches} batches of {BATCH} ({self.changes} changes), "
            f"{self.unanswered} sends unanswered ({self.committed_unanswered} of those batches "
            f"committed before the kill), {self.replays_checked} replays checked; "
            f"{self.records} records: {self.lost} lost, {self.duplicated} duplicated, "
            f"{self.wrong} wrong, {self.errors} error answers; push p50/p95/p99 "
            f"{self.percentile(50):.0f}/{self.percentile(95):.0f}/{self.percentile(99):.0f} ms"
        )

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)


def make_people(database_url: str) -> None:
    """The schema, a team and officers A and B (cheap password hashes: this is not a sign-in
    test)."""
    from argon2 import PasswordHasher

    import server.accounts.auth as auth
    from server import create_app
    from server.accounts.people import add_team, add_user
    from server.db import db
    from server.db.create import init_db

    saved = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "crash", "CHECK_SCHEMA": False})
    try:
        with app.app_context():
            init_db()
            add_team(TEAM, "Crash team", "Crash town")
            for name in ("pc.crash.a", "pc.crash.b"):
                add_user(name, PASSWORD, "officer", TEAM)
            db.session.remove()
            db.engine.dispose()
    finally:
        auth._hasher = saved


class Run:
    """One crash run: the server, the phones, the oracle and what was sent."""

    def __init__(self, database_url: str, workdir: Path, rounds: int, seed: int = 14):
        self.database_url, self.workdir, self.rounds = database_url, workdir, rounds
        self.rng = random.Random(seed)
        self.env = {**os.environ, "BEATBOOK_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
        self.process = None
        self.log = None
        self.url = ""
        self.oracle = MemoryStore()
        self.pool: dict[str, list[str]] = {"pc.crash.a": [], "pc.crash.b": []}
        self.deleted: set[str] = set()
        self.answers: dict[str, tuple[Phone, bytes, dict]] = {}  # batch id -> first answer
        self.tally = Tally()
        self.http = requests.Session()
        self.http.headers["Connection"] = "close"
        self.killer: threading.Thread | None = None

    # The server -------------------------------------------------------------------------------

    def start(self) -> None:
        self.process, self.url, self.log = start_serve(self.env, self.workdir, workers=2)

    def kill(self) -> None:
        """SIGKILL to the whole group: nothing of the server gets to clean up."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except Exception:  # noqa: BLE001 - then it is killed
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.log.close()
            self.process = None

    # The phones -------------------------------------------------------------------------------

    def sign_in(self, phone: Phone) -> None:
        response = self.http.post(
            f"{self.url}/api/v1/auth/device",
            json={"username": phone.officer, "password": PASSWORD, "device_name": "Crash phone"},
            timeout=60,
        )
        response.raise_for_status()
        body = response.json()
        phone.token, phone.device_id = body["token"], body["device_id"]

    def headers(self, phone: Phone) -> dict:
        return {"Authorization": f"Bearer {phone.token}", "Content-Type": "application/json"}

    def make_batch(self, phone: Phone) -> tuple[str, bytes, list[Change]]:
        rng, pool, wire = self.rng, self.pool[phone.officer], []
        live = [i for i in pool if i not in self.deleted]
        edits = rng.sample(pool, min(len(pool), 150))
        deletes = [i for i in rng.sample(live, min(len(live), 50)) if i not in edits]
        for record_id in edits:
            wire.append(
                {
                    "id": record_id,
                    "op": "upsert",
                    "hlc": phone.stamp(),
                    "base_rev": phone.known.get(record_id, 1),
                    "data": {
                        "summary": f"Edited on {phone.device_id[:8]} ({rng.randint(1, 10**6)}).",
                        "people_count": rng.randint(1, 9),
                    },
                }
            )
        for record_id in deletes:
            wire.append(
                {
                    "id": record_id,
                    "op": "delete",
                    "hlc": phone.stamp(),
                    "base_rev": phone.known.get(record_id, 1),
                    "data": {},
                }
            )
        while len(wire) < BATCH:
            when = datetime.now(timezone.utc) - timedelta(minutes=rng.randint(5, 600))
            # Microseconds always written out, as the server writes them back.
            when = when.replace(microsecond=rng.randint(1, 999_999))
            wire.append(
                {
                    "id": str(uuid.uuid4()),
                    "op": "upsert",
                    "hlc": phone.stamp(),
                    "base_rev": None,
                    "data": {
                        "occurred_at": when.isoformat(timespec="microseconds"),
                        "kind": "face_to_face",
                        "summary": f"Spoke with residents ({rng.randint(1, 10**6)}).",
                        "place": f"Street {rng.randint(1, 99)}",
                        "people_count": rng.randint(1, 9),
                    },
                }
            )
        rng.shuffle(wire)
        batch_id = uuid.uuid4().hex
        body = json.dumps(
            {
                "device_id": phone.device_id,
                "batch_id": batch_id,
                "device_now": datetime.now(timezone.utc).isoformat(),
                "pending": 0,
                "app_version": "crash",
                "changes": wire,
            }
        ).encode()
        return batch_id, body, [Change.from_dict(c) for c in wire]

    def send(self, phone: Phone, body: bytes, new_id: bool = False) -> tuple[dict, datetime, bytes]:
        """Send until answered, restarting the server whenever it is found dead; returns the
        answer, when the send that got it began, and the body it answered. With `new_id` a
        resend carries a new batch id, as the officers' app does (its changes are known to the
        server by their own ids and stamps, so they are answered `duplicate`)."""
        while True:
            if self.process is None:
                self.start()
            started = time.perf_counter()
            sent_at = datetime.now(timezone.utc)
            try:
                response = self.http.post(
                    f"{self.url}/api/v1/sync/push",
                    data=body,
                    headers=self.headers(phone),
                    timeout=120,
                )
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                # No answer, or its body cut off by the kill: unanswered either way.
                self.tally.unanswered += 1
                self.wait_for_kill()
                if new_id:
                    body = json.dumps({**json.loads(body), "batch_id": uuid.uuid4().hex}).encode()
                continue
            if response.status_code != 200:
                self.tally.errors += 1
                self.tally.problem(f"push answered {response.status_code}: {response.text[:300]}")
                time.sleep(0.5)
                continue
            self.tally.push_ms.append((time.perf_counter() - started) * 1000)
            return response.json(), sent_at, body

    def wait_for_kill(self) -> None:
        killer = self.killer
        if killer is not None:
            killer.join()
        if self.process is not None and self.process.poll() is None:
            return  # a connection refused by a live server (it should not happen): try again
        self.kill()

    # The oracle -------------------------------------------------------------------------------

    def expect(self, phone: Phone, changes: list[Change]) -> list[dict]:
        """The engine's answer to the batch (the oracle's state moves on with it)."""
        outcome = apply_batch(
            self.oracle,
            changes,
            now_ms=MAX_MILLIS,  # never caps a stamp: the server's now is after every stamp
            skew_ms=0,
            validate=lambda change, existing: None,
            authorize=lambda change, existing: None,
        )
        return [r.to_dict() for r in outcome.results]

    def take(self, phone: Phone, changes: list[Change], expected: list[dict], answer: dict):
        if answer["results"] != expected:
            self.tally.problem(f"batch {answer['batch_id']}: answer differs from the oracle")
            self.tally.wrong += 1
        for change, result in zip(changes, answer["results"]):
            if result.get("rev") is not None:
                phone.known[change.id] = result["rev"]
            if change.base_rev is None and result["status"] == "applied":
                self.pool[phone.officer].append(change.id)
            if change.op == "delete":
                self.deleted.add(change.id)

    # The run ----------------------------------------------------------------------------------

    def push_round(self, phones: list[Phone]) -> None:
        """Push batches until the server has been killed once; the batch it caught is sent again
        (same batch id) on the restarted server. Even rounds kill at a random moment; odd ones
        the moment a batch's commit shows in the database, before its answer can leave (the
        case where a phone must not count as unsent what the server already holds)."""
        killed = threading.Event()

        def kill() -> None:
            self.kill()
            self.tally.kills += 1
            killed.set()

        if self.tally.rounds % 2:
            self.killer = threading.Thread(target=self.kill_after_commit, args=(kill,))
        else:
            self.killer = threading.Timer(self.rng.uniform(0.2, 4.0), kill)
        self.killer.start()
        while not killed.is_set():
            self.batch(phones[self.tally.batches % len(phones)])
        self.killer.join()
        self.killer = None

    def kill_after_commit(self, kill) -> None:
        skip = self.rng.randint(0, 3)  # batches to let through first
        engine = sa.create_engine(self.database_url, poolclass=NullPool)
        with engine.connect() as conn:
            count = sa.text("SELECT count(*) FROM sync_batch")
            start = conn.execute(count).scalar()
            conn.rollback()
            while conn.execute(count).scalar() <= start + skip:
                conn.rollback()
                time.sleep(0.001)
        engine.dispose()
        kill()

    def batch(self, phone: Phone) -> None:
        batch_id, body, changes = self.make_batch(phone)
        expected = self.expect(phone, changes)
        before = self.tally.unanswered
        new_id = self.tally.batches % 2 == 1  # half the resends as the app makes them
        answer, last_sent, body = self.send(phone, body, new_id)
        resent = self.tally.unanswered > before
        duplicates = [{**r, "status": "duplicate"} for r in expected]
        if resent and answer["batch_id"] != batch_id and answer["results"] == duplicates:
            # Committed before the kill, asked again under a new id: every change a duplicate.
            self.tally.committed_unanswered += 1
            self.tally.abandoned_ids += 1
            expected = duplicates
        elif resent and datetime.fromisoformat(answer["server_time"]) < last_sent:
            # Committed before the kill, same id: the stored answer, from the first commit.
            self.tally.committed_unanswered += 1
        self.tally.batches += 1
        self.tally.changes += len(changes)
        self.answers[answer["batch_id"]] = (phone, body, answer)
        self.take(phone, changes, expected, answer)

    def replay_some(self, count: int) -> None:
        """Send answered batches again, same batch id: the answer must be the first, exactly."""
        for batch_id in self.rng.sample(sorted(self.answers), min(count, len(self.answers))):
            phone, body, first = self.answers[batch_id]
            again, _, _ = self.send(phone, body)
            self.tally.replays_checked += 1
            if again != first:
                self.tally.wrong += 1
                self.tally.problem(f"replay of {batch_id} answered differently")

    def check_pulls(self, phones: list[Phone]) -> None:
        officers = {p.officer: p for p in phones}
        expected = {}
        for record_id, state in self.oracle.records.items():
            expected[record_id] = self.oracle._pulled(record_id)
        seen: dict[str, int] = {}
        for phone in officers.values():
            cursor, more = "", True
            while more:
                response = self.http.get(
                    f"{self.url}/api/v1/sync/pull",
                    params={"since": cursor, "limit": 1000},
                    headers=self.headers(phone),
                    timeout=60,
                )
                response.raise_for_status()
                page = response.json()
                for record in page["changes"]:
                    seen[record["id"]] = seen.get(record["id"], 0) + 1
                    self.compare(record, expected.get(record["id"]))
                cursor, more = page["cursor"], page["more"]
        # Both officers are in one team: each pull carries every record once.
        self.tally.records = len(expected)
        self.tally.lost = sum(1 for i in expected if i not in seen)
        self.tally.duplicated = sum(n - len(officers) for n in seen.values() if n > len(officers))
        self.tally.lost += sum(1 for n in seen.values() if n < len(officers))
        if self.tally.lost:
            self.tally.problem(f"{self.tally.lost} records lost")

    def compare(self, record: dict, want) -> None:
        if want is None:
            self.tally.wrong += 1
            self.tally.problem(f"record {record['id']} was never sent")
            return
        got = {
            "rev": record["rev"],
            "deleted": record["deleted"],
            "data": {k: v for k, v in record["data"].items() if k in COMPARED},
            "hlc": {k: v for k, v in record["hlc"].items() if k in COMPARED or k == "_deleted"},
            "conflicts": [
                (c["field"], _side(c["winner"]), _side(c["loser"])) for c in record["conflicts"]
            ],
            "open": record["open_conflicts"],
        }
        expected = {
            "rev": want.rev,
            "deleted": want.deleted,
            "data": {k: v for k, v in want.fields.items() if k in COMPARED},
            "hlc": dict(want.stamps),
            "conflicts": [(c.field, c.winner, c.loser) for c in latest_conflicts(want.conflicts)],
            "open": len(want.conflicts),
        }
        if got != expected:
            self.tally.wrong += 1
            diff = {k: (got[k], expected[k]) for k in got if got[k] != expected[k]}
            self.tally.problem(f"record {record['id']}: {str(diff)[:400]}")

    def check_database(self) -> None:
        if self.database_url.startswith("sqlite"):
            path = self.database_url.removeprefix("sqlite:///")
            with sqlite3.connect(path) as conn:
                verdict = conn.execute("PRAGMA integrity_check").fetchall()
            if verdict != [("ok",)]:
                self.tally.problem(f"integrity_check: {verdict[:5]}")
                self.tally.wrong += 1
        engine = sa.create_engine(self.database_url)
        with engine.connect() as conn:
            twice = conn.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT record_id, hlc FROM change "
                    "GROUP BY record_id, hlc HAVING count(*) > 1) AS t"
                )
            ).scalar()
            batches = conn.execute(sa.text("SELECT count(*) FROM sync_batch")).scalar()
        engine.dispose()
        if twice:
            self.tally.duplicated += twice
            self.tally.problem(f"{twice} changes logged twice")
        if batches != self.tally.batches + self.tally.abandoned_ids:
            self.tally.problem(f"{batches} batches stored, {self.tally.batches} sent")
            self.tally.wrong += 1

    def run(self) -> Tally:
        make_people(self.database_url)
        self.start()
        phones = [Phone("pc.crash.a"), Phone("pc.crash.a"), Phone("pc.crash.b")]
        for phone in phones:
            self.sign_in(phone)
        try:
            for _ in range(self.rounds):
                self.tally.rounds += 1
                if self.process is None:
                    self.start()
                self.push_round(phones)
            if self.process is None:
                self.start()
            self.replay_some(10)
            self.check_pulls(phones)
        finally:
            self.stop()
        self.check_database()
        return self.tally


def _side(side: dict) -> dict:
    """A pulled conflict's side without the device the server names from its stamp."""
    assert side.get("device_id") == side["hlc"].rsplit("-", 1)[1], side
    return {k: v for k, v in side.items() if k != "device_id"}
