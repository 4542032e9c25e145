"""Pull: full record states past a cursor, visible records only, never skipping a change."""

from __future__ import annotations

import threading

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
    assert device.pull(since=second["cursor"]).get_json() == {
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


def test_concurrent_writers_never_make_a_pull_skip(app, make_user, new_device):
    """Pull while several phones push at once: every record arrives exactly once."""
    phones = [new_device(make_user("officer", "NPT-ONE")) for _ in range(4)]
    reader = new_device(make_user("officer", "NPT-ONE"))
    sent: set[str] = set()
    lock = threading.Lock()

    def writer(phone):
        client = app.test_client()
        for _ in range(8):
            batch = [create_change(phone) for _ in range(5)]
            phone.client = client
            assert phone.push(batch).status_code == 200
            with lock:
                sent.update(c["id"] for c in batch)

    threads = [threading.Thread(target=writer, args=(p,)) for p in phones]
    for thread in threads:
        thread.start()
    seen: list[str] = []
    cursor = ""
    reader.client = app.test_client()
    while any(t.is_alive() for t in threads):
        body = reader.pull(since=cursor, limit=7).get_json()
        seen.extend(c["id"] for c in body["changes"])
        cursor = body["cursor"]
    for thread in threads:
        thread.join()
    while True:
        body = reader.pull(since=cursor, limit=50).get_json()
        seen.extend(c["id"] for c in body["changes"])
        cursor = body["cursor"]
        if not body["more"]:
            break
    assert len(seen) == len(set(seen)) == len(sent) == 160
    assert set(seen) == sent
