"""Pull: full record states past a cursor, visible records only, never skipping a change."""

from __future__ import annotations

import random
import threading
import time

from helpers import create_change


def test_pull_returns_full_state_and_pages_until_done(device):
    changes = [create_change(device) for _ in range(5)]
    device.push(changes)
    first = device.pull(limit=3).get_json()
    assert len(first["changes"]) == 3 and first["more"] is True
    second = device.pull(since=first["cursor"], limit=3).get_json()
    assert len(second["changes"]) == 2 and second["more"] is False
    pulled = {c["id"] for c in first["changes"] + second["changes"]}
    assert pulled == {c["id"] for c in changes}
    record = first["changes"][0]
    assert record["rev"] == 1 and record["deleted"] is False
    assert record["officer"]["username"] == device.user["username"]
    assert record["team"] == "NPT-ONE"
    assert record["review"]["state"] == "pending"
    assert set(record["hlc"]) >= {"summary", "kind"}
    assert "alerts" not in first and isinstance(second["alerts"], list)
    last = device.pull(since=second["cursor"]).get_json()
    assert {k: v for k, v in last.items() if k != "alerts"} == {
        "changes": [],
        "cursor": second["cursor"],
        "more": False,
    }


def test_pull_shows_own_team_not_other_teams(make_user, new_device):
    mine = new_device(make_user("officer", "NPT-ONE"))
    teammate = new_device(make_user("officer", "NPT-ONE"))
    other = new_device(make_user("officer", "NPT-TWO"))
    mine.push([create_change(mine)])
    teammate.push([create_change(teammate)])
    other.push([create_change(other)])
    assert len(mine.pull().get_json()["changes"]) == 2
    assert len(other.pull().get_json()["changes"]) == 1


def test_pull_includes_deletes_and_open_conflicts(make_user, new_device):
    username = make_user("officer", "NPT-ONE")
    phone_a, phone_b = new_device(username, "A"), new_device(username, "B")
    change = create_change(phone_a)
    phone_a.push([change])
    cursor = phone_a.pull().get_json()["cursor"]
    phone_a.push(
        [
            {
                "id": change["id"],
                "op": "upsert",
                "hlc": phone_a.stamp(),
                "base_rev": 1,
                "data": {"summary": "A"},
            }
        ]
    )
    phone_b.push(
        [
            {
                "id": change["id"],
                "op": "upsert",
                "hlc": phone_b.stamp(),
                "base_rev": 1,
                "data": {"summary": "B"},
            }
        ]
    )
    pulled = phone_a.pull(since=cursor).get_json()["changes"]
    assert len(pulled) == 1
    conflicts = pulled[0]["conflicts"]
    assert [c["field"] for c in conflicts] == ["summary"]
    assert {conflicts[0]["winner"]["value"], conflicts[0]["loser"]["value"]} == {"A", "B"}


WRITERS, BATCHES, PER_BATCH = 8, 8, 5


def test_concurrent_writers_never_make_a_pull_skip(app, make_user, new_device, monkeypatch):
    """Many phones push at once, each holding its transaction open for a random time after it
    took its sequence numbers (so on PostgreSQL later seqs often commit first), while two
    readers pull (one keeping up at the head, one in small pages): every record reaches each
    reader exactly once. On PostgreSQL
    the pushes must also overlap: writers of different records do not queue for one lock."""
    from server.sync.store import SqlStore

    phones = [new_device(make_user("officer", "NPT-ONE")) for _ in range(WRITERS)]
    readers = [new_device(make_user("officer", "NPT-ONE")) for _ in range(2)]
    sent: set[str] = set()
    lock = threading.Lock()
    inside = {"now": 0, "most": 0}
    real_save = SqlStore.save

    def slow_save(self, writes):
        real_save(self, writes)  # seqs taken, rows written, not yet committed
        with lock:
            inside["now"] += 1
            inside["most"] = max(inside["most"], inside["now"])
        time.sleep(random.uniform(0, 0.05))
        with lock:
            inside["now"] -= 1

    monkeypatch.setattr(SqlStore, "save", slow_save)

    def writer(phone):
        phone.client = app.test_client()
        for _ in range(BATCHES):
            batch = [create_change(phone) for _ in range(PER_BATCH)]
            assert phone.push(batch).status_code == 200
            with lock:
                sent.update(c["id"] for c in batch)

    def drain(reader, seen, cursor, limit):
        while True:
            body = reader.pull(since=cursor, limit=limit).get_json()
            seen.extend(c["id"] for c in body["changes"])
            cursor = body["cursor"]
            if not body["more"]:
                return cursor

    threads = [threading.Thread(target=writer, args=(p,)) for p in phones]
    for thread in threads:
        thread.start()
    seen: list[list[str]] = [[], []]
    cursors = ["", ""]
    for reader in readers:
        reader.client = app.test_client()
    while any(t.is_alive() for t in threads):
        for n, reader in enumerate(readers):
            cursors[n] = drain(reader, seen[n], cursors[n], limit=(1000, 7)[n])
    for thread in threads:
        thread.join()
    for n, reader in enumerate(readers):
        drain(reader, seen[n], cursors[n], limit=50)
    total = WRITERS * BATCHES * PER_BATCH
    for ids in seen:
        assert len(ids) == len(set(ids)) == len(sent) == total
        assert set(ids) == sent
    if app.config["DATABASE_URL"].startswith("postgresql"):
        assert inside["most"] >= 2, "no two pushes were ever in flight together"
