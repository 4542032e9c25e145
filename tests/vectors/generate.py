"""Write the shared test vectors (`hlc.json`, `merge.json`) from the Python implementation.

    .venv/bin/python tests/vectors/generate.py          # rewrite the files
    .venv/bin/python tests/vectors/generate.py --check  # exit 1 if the files are stale

Inputs are chosen here by hand; every expected output is computed by `sync`, and
`tests/sync/test_sync_vectors.py` fails when the committed files differ from what this script
produces. The format is described in README.md next to this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
# The editable install may predate sync/__init__.py (then `sync` resolves as an empty namespace
# package); putting the repository first makes the script work either way.
sys.path.insert(0, str(HERE.parents[1]))

from sync import HLC, Change, RecordState, SyncError, correct, json_equal, merge  # noqa: E402

FORMAT_VERSION = 1

T = 1_764_063_000_000  # 2025-11-25T09:30:00Z, the examples' "now"
DEV_A = "3f2a9c0d4e5b6a7c8d9e0f1a2b3c4d5e"
DEV_B = "b7c1d2e3f4a5968778695a4b3c2d1e0f"
DEV_C = "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"
SERVER = "server"
REC = "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f"


def stamp(ms: int, node: str, counter: int = 0) -> str:
    return str(HLC(ms, counter, node))


def _error_name(call: Callable[[], Any]) -> tuple[Any, str | None]:
    try:
        return call(), None
    except SyncError as exc:
        return None, type(exc).__name__


# ---------------------------------------------------------------- hlc.json


def build_hlc() -> dict[str, Any]:
    formats = [
        (0, 0, "a"),
        (T, 0, DEV_A),
        (T, 42, SERVER),
        (10**15 - 1, 99999, "z" * 64),
        (1, 99999, "0"),
    ]
    invalid_strings = [
        ("", "empty"),
        ("1764063000000-00000-abc", "millis not padded to 15 digits"),
        ("001764063000000-0000-abc", "counter not padded to 5 digits"),
        ("001764063000000-000000-abc", "counter too long"),
        ("0001764063000000-00000-abc", "millis too long"),
        ("001764063000000-00000-", "empty node"),
        ("001764063000000-00000-ABC", "upper-case node"),
        ("001764063000000-00000-a_b", "node character outside [a-z0-9]"),
        ("001764063000000-00000-a-b", "node with a dash"),
        ("001764063000000-00000-" + "a" * 65, "node longer than 64"),
        (" 001764063000000-00000-abc", "leading space"),
        ("001764063000000-00000-abc\n", "trailing newline"),
        ("001764063000000_00000_abc", "wrong separators"),
        ("-01764063000000-00000-abc", "sign in millis"),
        ("00176406300000a-00000-abc", "letter in millis"),
        ("001764063000000-0000\u0661-abc", "non-ASCII digit"),
    ]
    invalid_values = [
        {"millis": -1, "counter": 0, "node": "a", "reason": "negative millis"},
        {"millis": 10**15, "counter": 0, "node": "a", "reason": "millis over 15 digits"},
        {"millis": 1.5, "counter": 0, "node": "a", "reason": "fractional millis"},
        {"millis": True, "counter": 0, "node": "a", "reason": "boolean millis"},
        {"millis": 0, "counter": -1, "node": "a", "reason": "negative counter"},
        {"millis": 0, "counter": 100000, "node": "a", "reason": "counter over 5 digits"},
        {"millis": 0, "counter": 0, "node": "", "reason": "empty node"},
        {"millis": 0, "counter": 0, "node": "Server", "reason": "upper-case node"},
        {"millis": 0, "counter": 0, "node": "a" * 65, "reason": "node longer than 64"},
    ]
    for case in invalid_values:
        _, error = _error_name(lambda c=case: HLC(c["millis"], c["counter"], c["node"]))
        assert error == "HLCFormatError", case

    send_sequences = [
        ("wall clock advances", HLC(T, 0, DEV_A), [T + 1, T + 5, T + 1000]),
        ("same millisecond counts up", HLC(T, 0, DEV_A), [T, T, T, T + 1, T + 1]),
        ("wall clock steps backwards", HLC(T, 3, DEV_A), [T - 60_000, T - 1, T, T + 1]),
        ("from zero", HLC(0, 0, DEV_B), [0, 1, 1]),
        ("counter overflow", HLC(T, 99998, DEV_A), [T, T]),
    ]
    send = []
    for name, start, nows in send_sequences:
        steps: list[dict[str, Any]] = []
        clock = start
        for now in nows:
            result, error = _error_name(lambda c=clock, n=now: c.send(n))
            if error:
                steps.append({"now": now, "error": error})
                break
            clock = result
            steps.append({"now": now, "expect": str(clock)})
        send.append({"name": name, "start": str(start), "steps": steps})

    day = 86_400_000
    receive_inputs = [
        ("wall clock ahead of both", HLC(T, 5, SERVER), HLC(T + 10, 3, DEV_A), T + 100, day),
        ("remote ahead", HLC(T, 5, SERVER), HLC(T + 50, 3, DEV_A), T, day),
        ("local ahead", HLC(T + 50, 5, SERVER), HLC(T, 9, DEV_A), T, day),
        ("same millis: max counter + 1", HLC(T, 5, SERVER), HLC(T, 9, DEV_A), T - 1, day),
        ("same millis, local counter larger", HLC(T, 12, SERVER), HLC(T, 9, DEV_A), T, day),
        ("remote exactly at the drift limit", HLC(T, 0, DEV_B), HLC(T + 1000, 0, DEV_A), T, 1000),
        ("remote past the drift limit", HLC(T, 0, DEV_B), HLC(T + 1001, 0, DEV_A), T, 1000),
        ("remote behind never drifts", HLC(T, 0, DEV_B), HLC(0, 0, DEV_A), T, 0),
        ("remote has our node", HLC(T, 0, DEV_A), HLC(T, 1, DEV_A), T, day),
        ("counter overflow", HLC(T, 99999, SERVER), HLC(T, 7, DEV_A), T, day),
        ("remote counter overflow", HLC(T, 1, SERVER), HLC(T, 99999, DEV_A), T, day),
    ]
    receive = []
    for name, local, remote, now, drift in receive_inputs:
        result, error = _error_name(lambda lo=local, r=remote, n=now, d=drift: lo.receive(r, n, d))
        case: dict[str, Any] = {
            "name": name,
            "local": str(local),
            "remote": str(remote),
            "now": now,
            "max_drift": drift,
        }
        case.update({"error": error} if error else {"expect": str(result)})
        receive.append(case)

    correct_inputs = [
        ("no skew, in the past", HLC(T - 5000, 2, DEV_A), 0, T),
        ("fast device shifted back", HLC(T + 3_600_000, 0, DEV_A), 3_600_000, T + 10),
        ("slow device shifted forward", HLC(T - 7_200_000, 4, DEV_A), -7_200_000, T + 10),
        ("capped at server now", HLC(T + 60_000, 7, DEV_A), 0, T),
        ("skew under-explains a fast clock", HLC(T + 60_000, 1, DEV_A), 1000, T),
        ("never below zero", HLC(10, 0, DEV_A), 1000, T),
        ("server stamp", HLC(T, 3, SERVER), 0, T),
    ]
    corrections = [
        {
            "name": name,
            "stamp": str(s),
            "skew": skew,
            "now": now,
            "expect": str(correct(s, skew, now)),
        }
        for name, s, skew, now in correct_inputs
    ]

    order_pairs = [
        (HLC(T, 0, DEV_A), HLC(T + 1, 0, DEV_A)),
        (HLC(T, 1, DEV_A), HLC(T, 0, DEV_B)),
        (HLC(T, 9, DEV_A), HLC(T, 10, DEV_A)),
        (HLC(T, 5, DEV_A), HLC(T, 5, DEV_B)),
        (HLC(T, 5, "server"), HLC(T, 5, "servera")),
        (HLC(T, 5, "z"), HLC(T, 5, "a" * 64)),
        (HLC(999, 0, "a"), HLC(1000, 0, "a")),
        (HLC(T, 5, DEV_A), HLC(T, 5, DEV_A)),
        (HLC(T + 1, 0, "0"), HLC(T, 99999, "z")),
    ]
    order = []
    for a, b in order_pairs:
        cmp = (a > b) - (a < b)
        assert cmp == (str(a) > str(b)) - (str(a) < str(b))
        order.append({"a": str(a), "b": str(b), "cmp": cmp})

    return {
        "format_version": FORMAT_VERSION,
        "format": [
            {"millis": m, "counter": c, "node": n, "string": str(HLC(m, c, n))}
            for m, c, n in formats
        ],
        "invalid_strings": [{"string": s, "reason": r} for s, r in invalid_strings],
        "invalid_values": invalid_values,
        "send": send,
        "receive": receive,
        "correct": corrections,
        "order": order,
    }


# ---------------------------------------------------------------- merge.json


class _Cases:
    """Collects merge cases; `step` returns the resulting state so scenarios can chain."""

    def __init__(self) -> None:
        self.cases: list[dict[str, Any]] = []

    def step(
        self,
        name: str,
        state: RecordState | None,
        change: Change,
        effective_hlc: str,
        new_rev: int | None = None,
    ) -> RecordState:
        rev = new_rev if new_rev is not None else (state.rev + 1 if state else 1)
        out = merge(state, change, effective_hlc, rev)
        self.cases.append(
            {
                "name": name,
                "state": state.to_dict() if state else None,
                "change": change.to_dict(),
                "effective_hlc": effective_hlc,
                "new_rev": rev,
                "expect": {
                    "state": out.state.to_dict(),
                    "status": out.status,
                    "conflicts": [c.to_dict() for c in out.conflicts],
                    "changed_fields": out.changed_fields,
                },
            }
        )
        return out.state


def _up(hlc: str, base_rev: int | None, **data: Any) -> Change:
    return Change(REC, "upsert", hlc, base_rev, data)


def _del(hlc: str, base_rev: int | None) -> Change:
    return Change(REC, "delete", hlc, base_rev, {})


def build_merge() -> dict[str, Any]:
    c = _Cases()
    a0 = stamp(T, DEV_A)

    created = c.step(
        "create",
        None,
        _up(a0, None, summary="Foot patrol", kind="face_to_face", people_count=3),
        a0,
    )
    c.step(
        "create with nested JSON values",
        None,
        _up(
            a0,
            None,
            location={"lat": 51.5, "lon": -0.12, "accuracy_m": 8},
            groups=["youth", "business"],
            public=True,
            duration_minutes=None,
        ),
        a0,
    )
    c.step("delete of a record that does not exist: empty tombstone", None, _del(a0, None), a0)

    # Sequential edits: the device saw rev 1.
    c.step(
        "sequential edit, later stamp",
        created,
        _up(stamp(T + 1000, DEV_B), 1, summary="Foot patrol, High St"),
        stamp(T + 1000, DEV_B),
    )
    c.step(
        "sequential edit with an earlier stamp still wins; stamp stays the later one",
        created,
        _up(stamp(T - 5000, DEV_B), 1, summary="Earlier clock"),
        stamp(T - 5000, DEV_B),
    )
    c.step(
        "sequential no-op: same value, earlier stamp changes nothing (rev stays)",
        created,
        _up(stamp(T - 5000, DEV_B), 1, summary="Foot patrol"),
        stamp(T - 5000, DEV_B),
    )
    c.step(
        "sequential same value with a later stamp advances the stamp and the rev",
        created,
        _up(stamp(T + 10, DEV_B), 1, summary="Foot patrol"),
        stamp(T + 10, DEV_B),
    )
    c.step(
        "sequential write of a field never written before",
        created,
        _up(stamp(T + 10, DEV_B), 1, follow_up="Call back Tuesday"),
        stamp(T + 10, DEV_B),
    )
    c.step(
        "empty upsert changes nothing", created, _up(stamp(T + 10, DEV_B), 1), stamp(T + 10, DEV_B)
    )
    c.step(
        "JSON equality: true is not 1",
        created,
        _up(stamp(T - 1, DEV_B), 1, people_count=True),
        stamp(T - 1, DEV_B),
    )
    c.step(
        "JSON equality: 3 equals 3.0",
        created,
        _up(stamp(T - 1, DEV_B), 1, people_count=3.0),
        stamp(T - 1, DEV_B),
    )

    # B edits at rev 1 -> rev 2; A then sends changes based on rev 1 (concurrent with B's).
    b1 = stamp(T + 1000, DEV_B)
    rev2 = c.step(
        "B edits summary and place at rev 1",
        created,
        _up(b1, 1, summary="Foot patrol, High St", place="Co-op"),
        b1,
    )
    c.step(
        "concurrent edit of other fields merges",
        rev2,
        _up(stamp(T + 500, DEV_A), 1, people_count=5),
        stamp(T + 500, DEV_A),
    )
    c.step(
        "concurrent same field, later stamp wins; loser kept",
        rev2,
        _up(stamp(T + 2000, DEV_A), 1, summary="Patrol with PCSO"),
        stamp(T + 2000, DEV_A),
    )
    c.step(
        "concurrent same field, earlier stamp loses; record rev bumps for the conflict",
        rev2,
        _up(stamp(T + 500, DEV_A), 1, summary="Patrol with PCSO"),
        stamp(T + 500, DEV_A),
    )
    c.step(
        "concurrent equal value, later stamp: merged, stamp advances",
        rev2,
        _up(stamp(T + 2000, DEV_A), 1, place="Co-op"),
        stamp(T + 2000, DEV_A),
    )
    c.step(
        "concurrent equal value, earlier stamp: merged, nothing changes",
        rev2,
        _up(stamp(T + 500, DEV_A), 1, place="Co-op"),
        stamp(T + 500, DEV_A),
    )
    c.step(
        "concurrent: one field conflicts, others merge, null is a value",
        rev2,
        _up(stamp(T + 500, DEV_A), 1, summary="Patrol", place=None, follow_up="None needed"),
        stamp(T + 500, DEV_A),
    )
    c.step(
        "base_rev null on an existing record: every field is concurrent",
        rev2,
        _up(stamp(T + 1500, DEV_C), None, summary="Other create", kind="face_to_face"),
        stamp(T + 1500, DEV_C),
    )
    c.step(
        "base_rev null, field nobody wrote: merged, no conflict",
        created,
        _up(stamp(T + 1, DEV_C), None, location=None),
        stamp(T + 1, DEV_C),
    )
    loc = c.step(
        "set a location",
        created,
        _up(stamp(T + 1, DEV_B), 1, location={"lat": 1, "lon": 2}),
        stamp(T + 1, DEV_B),
    )
    c.step(
        "concurrent equal object in another key order is not a conflict",
        loc,
        _up(stamp(T, DEV_C, 1), 1, location={"lon": 2, "lat": 1}),
        stamp(T, DEV_C, 1),
    )
    c.step(
        "supervisor edit on the server",
        rev2,
        _up(stamp(T + 3000, SERVER), 2, summary="Reviewed"),
        stamp(T + 3000, SERVER),
    )
    c.step(
        "proposed new_rev is used as given",
        rev2,
        _up(stamp(T + 3000, DEV_A), 2, kind="meeting"),
        stamp(T + 3000, DEV_A),
        new_rev=7,
    )

    # Deletes.
    d = stamp(T + 4000, DEV_A)
    tomb = c.step("sequential delete: tombstone keeps fields", rev2, _del(d, 2), d)
    c.step(
        "delete concurrent with an unseen edit: tombstone wins, conflict on _deleted",
        rev2,
        _del(d, 1),
        d,
    )
    c.step(
        "delete concurrent with an unseen edit, delete stamp earlier: still deleted",
        rev2,
        _del(stamp(T + 10, DEV_A), 1),
        stamp(T + 10, DEV_A),
    )
    c.step(
        "re-delete seen, earlier stamp: still writes _deleted (rev), stamp kept",
        tomb,
        _del(stamp(T + 3000, DEV_B), 3),
        stamp(T + 3000, DEV_B),
    )
    c.step(
        "concurrent re-delete, later stamp: merged, stamp advances, no conflict",
        tomb,
        _del(stamp(T + 5000, DEV_B), 2),
        stamp(T + 5000, DEV_B),
    )
    restored = c.step(
        "upsert having seen the deletion restores",
        tomb,
        _up(stamp(T + 6000, DEV_B), 3, summary="Restored"),
        stamp(T + 6000, DEV_B),
    )
    c.step(
        "empty upsert having seen the deletion is a pure restore",
        tomb,
        _up(stamp(T + 6000, DEV_B), 3),
        stamp(T + 6000, DEV_B),
    )
    c.step(
        "upsert concurrent with the delete merges into the tombstone with a conflict",
        tomb,
        _up(stamp(T + 6000, DEV_B), 2, summary="Edited offline", people_count=4),
        stamp(T + 6000, DEV_B),
    )
    c.step(
        "empty upsert concurrent with the delete: nothing to keep, no conflict",
        tomb,
        _up(stamp(T + 6000, DEV_B), 2),
        stamp(T + 6000, DEV_B),
    )
    c.step(
        "delete concurrent with an unseen restore",
        restored,
        _del(stamp(T + 7000, DEV_C), 3),
        stamp(T + 7000, DEV_C),
    )
    c.step(
        "delete concurrent with an unseen empty restore: no conflict",
        c.step("empty restore", tomb, _up(stamp(T + 6500, DEV_B), 3), stamp(T + 6500, DEV_B)),
        _del(stamp(T + 7000, DEV_C), 3),
        stamp(T + 7000, DEV_C),
    )
    c.step(
        "delete after seeing the restore",
        restored,
        _del(stamp(T + 7000, DEV_C), 4),
        stamp(T + 7000, DEV_C),
    )

    # One pair of concurrent changes in both delivery orders: same fields and conflicts.
    x, y = stamp(T + 100, DEV_A), stamp(T + 200, DEV_B)
    cx = _up(x, 1, summary="From A", place="Library")
    cy = _up(y, 1, summary="From B", people_count=9)
    c.step(
        "convergence, order A then B (second)",
        c.step("convergence, order A then B (first)", created, cx, x),
        cy,
        y,
    )
    c.step(
        "convergence, order B then A (second)",
        c.step("convergence, order B then A (first)", created, cy, y),
        cx,
        x,
    )

    equality = [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        (None, False, False),
        ("1", 1, False),
        ([1, 2], [2, 1], False),
        ([1, [2]], [1.0, [2.0]], True),
        ({"a": 1, "b": [True]}, {"b": [True], "a": 1}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({}, [], False),
        ("", None, False),
        ({"a": None}, {}, False),
    ]
    for a, b, expected in equality:
        assert json_equal(a, b) is expected and json_equal(b, a) is expected, (a, b)

    return {
        "format_version": FORMAT_VERSION,
        "cases": c.cases,
        "json_equal": [{"a": a, "b": b, "equal": e} for a, b, e in equality],
    }


# ---------------------------------------------------------------- files


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=True) + "\n"


def outputs() -> dict[Path, str]:
    return {HERE / "hlc.json": render(build_hlc()), HERE / "merge.json": render(build_merge())}


def main(argv: list[str]) -> int:
    stale = [
        path
        for path, text in outputs().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if "--check" in argv:
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs().items():
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
