"""Locust users for tests/faults/shift.py: one per phone of a shift syncing at once.

Run by shift.py in a process of its own (Locust patches the standard library with gevent):

    locust -f tests/faults/shift_locustfile.py --headless ...

SHIFT_DEVICES names a JSON file: one entry per phone, the officers who use it (a shared phone
has two, who take turns: sign out, sign in as the other). Each phone thinks (SHIFT_THINK seconds,
0.5x-1.5x), then pushes a small batch (1-5 changes: new records, and edits of the officer's own
records from the rev this phone last saw; an officer signed in on two phones edits the same
records from both without seeing the other's writes) or pulls from its cursor. At the end,
SHIFT_OUT gets what the server took, change by change, and Locust's figures.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from locust import HttpUser, between, events, task
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

DEVICES: list[list[str]] = json.loads(Path(os.environ["SHIFT_DEVICES"]).read_text())
THINK = float(os.environ.get("SHIFT_THINK", "2"))
PASSWORD = os.environ.get("SHIFT_PASSWORD", "")
TAKEN = ("applied", "merged", "conflict")
EXPECTED = {"sign in": 201, "sign out": 204}

_next_phone = itertools.count()
applied: list[tuple[str, str]] = []  # (record id, stamp) of every change the server took
results: Counter = Counter()  # per-change statuses in push answers
answers: dict[str, Counter] = defaultdict(Counter)  # request name -> HTTP status -> count


class Officer:
    """What one officer's session on one phone knows: its clock, cursor and records' revs."""

    def __init__(self, username: str, token: str, device_id: str):
        self.username, self.token, self.device_id = username, token, device_id
        self.millis = self.counter = 0
        self.cursor = ""
        self.known: dict[str, int] = {}  # own record id -> the rev this phone saw

    def stamp(self) -> str:
        now = int(time.time() * 1000)
        if now > self.millis:
            self.millis, self.counter = now, 0
        else:
            self.counter += 1
        return f"{self.millis:015d}-{self.counter:05d}-{self.device_id}"


class Phone(HttpUser):
    wait_time = between(THINK * 0.5, THINK * 1.5)

    def on_start(self) -> None:
        # A request sent on a kept-alive connection just as the server closes it (gunicorn keeps
        # them 2 s, about a think time) fails before any answer; a browser sends it again once,
        # and so does this (a push is answered by its batch id and change stamps, so a resend
        # cannot apply twice).
        retry = Retry(
            total=1,
            connect=1,
            read=1,
            status=0,
            allowed_methods=None,
            respect_retry_after_header=False,  # a 503 is an answer, counted, not retried here
            raise_on_status=False,
        )
        self.client.mount("http://", HTTPAdapter(max_retries=retry))
        index = next(_next_phone)
        self.officers = DEVICES[index % len(DEVICES)]
        self.rng = random.Random(index)
        self.turn = 0
        self.session: Officer | None = None
        self.sign_in(self.officers[index % len(self.officers)])

    def _call(self, method: str, name: str, path: str, **kwargs):
        """One request; any status but the expected one is a failure, named by its status."""
        ok = EXPECTED.get(name, 200)
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as r:
            answers[name][r.status_code] += 1
            if r.status_code != ok:
                why = repr(r.error)[:200] if r.status_code == 0 else ""
                try:
                    why = r.json()["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    pass
                r.failure(f"{r.status_code} {why}".strip())
                return None
            return r.json() if r.content else {}

    def headers(self) -> dict:
        assert self.session is not None
        return {"Authorization": f"Bearer {self.session.token}"}

    def sign_in(self, username: str) -> None:
        body = self._call(
            "POST",
            "sign in",
            "/api/v1/auth/device",
            json={"username": username, "password": PASSWORD, "device_name": "Shift phone"},
        )
        self.session = Officer(username, body["token"], body["device_id"]) if body else None

    @task(1)
    def swap(self) -> None:
        """A shared phone changes hands (about one call in ten)."""
        if len(self.officers) < 2 or self.session is None:
            return
        self._call("DELETE", "sign out", "/api/v1/auth/device", headers=self.headers())
        self.turn += 1
        self.sign_in(self.officers[self.turn % len(self.officers)])

    def _new(self, officer: Officer) -> dict:
        when = datetime.now(timezone.utc) - timedelta(minutes=self.rng.randint(5, 600))
        return {
            "id": str(uuid.uuid4()),
            "op": "upsert",
            "hlc": officer.stamp(),
            "base_rev": None,
            "data": {
                "occurred_at": when.isoformat(),
                "kind": "face_to_face",
                "summary": f"Spoke with residents ({self.rng.randint(1, 10**6)}).",
                "place": "High Street",
                "people_count": self.rng.randint(1, 9),
            },
        }

    @task(7)
    def push(self) -> None:
        officer = self.session
        if officer is None:
            return self.sign_in(self.officers[self.turn % len(self.officers)])
        changes, edited = [], set()
        for _ in range(self.rng.randint(1, 5)):
            own = [i for i in officer.known if i not in edited]
            if own and self.rng.random() < 0.3:
                record_id = self.rng.choice(own)
                edited.add(record_id)
                changes.append(
                    {
                        "id": record_id,
                        "op": "upsert",
                        "hlc": officer.stamp(),
                        "base_rev": officer.known[record_id],
                        "data": {"summary": f"Added to ({self.rng.randint(1, 10**6)})."},
                    }
                )
            else:
                changes.append(self._new(officer))
        body = {
            "device_id": officer.device_id,
            "batch_id": uuid.uuid4().hex,
            "device_now": datetime.now(timezone.utc).isoformat(),
            "pending": 0,
            "app_version": "shift",
            "changes": changes,
        }
        answer = self._call(
            "POST", "push", "/api/v1/sync/push", json=body, headers=self.headers(), timeout=60
        )
        for result in (answer or {}).get("results", []):
            results[result["status"]] += 1
            if result["status"] in TAKEN:
                applied.append((result["id"], result["hlc"]))
                officer.known[result["id"]] = result["rev"]

    @task(2)
    def pull(self) -> None:
        officer = self.session
        if officer is None:
            return
        page = self._call(
            "GET",
            "pull",
            "/api/v1/sync/pull",
            params={"since": officer.cursor, "limit": 500},
            headers=self.headers(),
            timeout=60,
        )
        if page:
            officer.cursor = page["cursor"]
            for record in page["changes"]:
                # The officer's records made on their other phone become editable here too.
                if record["officer"]["username"] == officer.username and not record["deleted"]:
                    officer.known[record["id"]] = record["rev"]


@events.quitting.add_listener
def _write_figures(environment, **_kwargs) -> None:
    stats = environment.stats

    def figures(entry) -> dict:
        return {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": entry.total_rps,
            "p50": entry.get_response_time_percentile(0.5) or 0,
            "p95": entry.get_response_time_percentile(0.95) or 0,
            "p99": entry.get_response_time_percentile(0.99) or 0,
            "max": entry.max_response_time or 0,
        }

    out = {
        "total": figures(stats.total),
        "by_name": {entry.name: figures(entry) for entry in stats.entries.values()},
        "answers": {name: dict(counts) for name, counts in answers.items()},
        "errors": {f"{e.name}: {e.error}": e.occurrences for e in stats.errors.values()},
        "results": dict(results),
        "applied": applied,
    }
    Path(os.environ["SHIFT_OUT"]).write_text(json.dumps(out))
    environment.process_exit_code = 0  # shift.py judges the run
