"""Keeping assessment_fact current: a narrow row per record with its codes as bit masks.

Every write to a record gives it a new, higher `seq` (the sync protocol's pull cursor depends on
it), so catching up is "rows with seq above the high-water mark": usually a handful, read with
their standards and groups and written back as facts in one short transaction. The mark only
moves up to the commit watermark (server/db/writers.py), so nothing below it can appear later.
A mark above the highest seq (a restored backup) rebuilds the table.
"""

from __future__ import annotations

import math
from collections import defaultdict

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.assessment import rollup
from server.assessment.sql import seconds_between
from server.catalogues import catalogues
from server.db import db
from server.db.models import (
    AssessmentCode,
    AssessmentFact,
    AssessmentState,
    Record,
    RecordGroup,
    RecordStandard,
)
from server.db.writers import lock_writers, watermark
from server.records import codes

BATCH = 5000
BULK_FROM = 20_000  # a first build of more records than this is one INSERT ... SELECT
MAX_BITS = 62  # signed 64-bit masks
FAMILIES = {"standard": RecordStandard, "group": RecordGroup}


class FactsError(RuntimeError):
    """More codes than a mask can hold."""


def bits(family: str) -> dict[str, int]:
    """code -> bit for one family ("standard" or "group")."""
    rows = db.session.execute(
        sa.select(AssessmentCode.code, AssessmentCode.bit).where(AssessmentCode.family == family)
    )
    return dict(rows.all())


def all_bits() -> dict[str, dict[str, int]]:
    """family -> {code: bit}, in one query."""
    found: dict[str, dict[str, int]] = {family: {} for family in FAMILIES}
    for family, code, bit in db.session.connection().execute(
        sa.select(AssessmentCode.family, AssessmentCode.code, AssessmentCode.bit)
    ):
        found.setdefault(family, {})[code] = bit
    return found


def mask(family: str, codes) -> int:
    """The mask with the bits of `codes`; codes no record has used yet have no bit (0)."""
    known = bits(family)
    return sum(1 << known[c] for c in set(codes or []) if c in known)


def _assign(family: str, codes: set[str], known: dict[str, int]) -> None:
    new = sorted(codes - known.keys())
    if not new:
        return
    start = max(known.values(), default=-1) + 1
    if start + len(new) > MAX_BITS:
        raise FactsError(f"More than {MAX_BITS} {family} codes: assessment masks cannot hold them.")
    for offset, code in enumerate(new):
        known[code] = start + offset
    db.session.execute(
        sa.insert(AssessmentCode),
        [{"family": family, "code": code, "bit": known[code]} for code in new],
    )


def _marks() -> tuple[int, int | None, str | None]:
    """The newest record seq, the seq the facts reflect and the zone the rollups were built
    for, in one round trip."""
    top, mark, built = (
        db.session.connection()
        .execute(
            sa.select(
                sa.select(sa.func.max(Record.seq)).scalar_subquery(),
                sa.select(AssessmentState.seq).where(AssessmentState.id == 1).scalar_subquery(),
                sa.select(rollup.RollupState.tz)
                .where(rollup.RollupState.id == 1)
                .scalar_subquery(),
            )
        )
        .one()
    )
    top = top or 0
    # PostgreSQL commits writers out of seq order: catch up only below the oldest in flight
    # (server/db/writers.py), never below the mark itself (that would look like a restore).
    bound = watermark(db.session)
    if bound is not None:
        top = min(top, max(bound, mark or 0))
    return top, mark, built or None


def _state() -> AssessmentState:
    """The state row, locked until commit. PostgreSQL: FOR UPDATE. SQLite ignores that, and its
    driver starts a transaction only at the first write, so a second refresh would read the
    batch the first is writing and add it again: take the database write lock first instead."""
    if db.session.get_bind().dialect.name == "sqlite":
        lock_writers(db.session)
    locked = sa.select(AssessmentState).where(AssessmentState.id == 1).with_for_update()
    state = db.session.execute(locked).scalar_one_or_none()
    if state is None:
        # The first refresh of a new database: two at once (a grid and a pull's alerts) would
        # both insert the row, so the second one's insert does nothing and it waits on the lock.
        dialect = db.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(insert(AssessmentState).values(id=1, seq=0).on_conflict_do_nothing())
        state = db.session.execute(locked).scalar_one()
    return state


def _seconds(later, earlier) -> int | None:
    """Whole seconds, halves rounded up: the same as SQL ROUND() in bulk_build for notice given
    ahead (the only sign that matters), so both paths store the same number."""
    if later is None or earlier is None:
        return None
    return math.floor((later - earlier).total_seconds() + 0.5)


def _mask_sql(family: str, model) -> sa.ScalarSelect:
    """SUM(1 << bit) over a record's codes: its mask (codes are unique per record)."""
    one = sa.cast(sa.literal(1), sa.BigInteger)
    return (
        sa.select(sa.func.coalesce(sa.func.sum(one.op("<<")(AssessmentCode.bit)), 0))
        .select_from(model)
        .join(
            AssessmentCode,
            sa.and_(AssessmentCode.family == family, AssessmentCode.code == model.code),
        )
        .where(model.record_id == Record.id)
        .scalar_subquery()
    )


def bulk_build(state: AssessmentState, top: int) -> int:
    """The first build over an existing database: one INSERT ... SELECT, not batches."""
    for family, model in FAMILIES.items():
        codes = set(db.session.scalars(sa.select(model.code).distinct()))
        _assign(family, codes, bits(family))
    notice = sa.case(
        (Record.publicised_at.is_(None), None),
        else_=seconds_between(Record.occurred_at, Record.publicised_at),
    )
    columns = {
        "team_id": Record.team_id,
        "occurred_at": Record.occurred_at,
        "record_id": Record.id,
        "officer_id": Record.officer_id,
        "kind": Record.kind,
        "deleted": Record.deleted,
        "review_state": Record.review_state,
        "people_count": Record.people_count,
        "duration_minutes": Record.duration_minutes,
        "notice_seconds": notice,
        "std_mask": _mask_sql("standard", RecordStandard),
        "group_mask": _mask_sql("group", RecordGroup),
        "contact_role": sa.func.coalesce(Record.contact_role, ""),
        "contact_org": sa.func.coalesce(Record.contact_org, ""),
        "seq": Record.seq,
    }
    select = sa.select(*[value.label(name) for name, value in columns.items()]).where(
        Record.seq <= top
    )
    db.session.execute(sa.insert(AssessmentFact).from_select(list(columns), select))
    state.seq = top
    return db.session.scalar(sa.select(sa.func.count()).select_from(AssessmentFact))


def _catch_up(state: AssessmentState, top: int, zone=None) -> int:
    """Facts for one batch of records above the mark; returns how many. With `zone`, the
    rollups follow (rollup.Batch)."""
    records = db.session.execute(
        sa.select(
            Record.id,
            Record.team_id,
            Record.officer_id,
            Record.occurred_at,
            Record.kind,
            Record.deleted,
            Record.review_state,
            Record.people_count,
            Record.duration_minutes,
            Record.publicised_at,
            Record.contact_role,
            Record.contact_org,
            Record.seq,
        )
        .where(Record.seq > state.seq, Record.seq <= top)
        .order_by(Record.seq)
        .limit(BATCH)
    ).all()
    if not records:
        return 0
    ids = [r.id for r in records]
    masks: dict[str, dict[str, int]] = {}
    for family, model in FAMILIES.items():
        codes: dict[str, set[str]] = defaultdict(set)
        for record_id, code in db.session.execute(
            sa.select(model.record_id, model.code).where(model.record_id.in_(ids))
        ):
            codes[record_id].add(code)
        known = bits(family)
        _assign(family, set().union(*codes.values()) if codes else set(), known)
        masks[family] = {rid: sum(1 << known[c] for c in found) for rid, found in codes.items()}
    batch = None
    if zone is not None:
        batch = rollup.Batch(
            zone,
            db.session.execute(
                sa.select(
                    AssessmentFact.record_id,
                    AssessmentFact.team_id,
                    AssessmentFact.occurred_at,
                    AssessmentFact.kind,
                ).where(AssessmentFact.record_id.in_(ids))
            ).all(),
            [(r.id, r.team_id, r.occurred_at, r.kind) for r in records],
        )
        batch.before()
    db.session.execute(sa.delete(AssessmentFact).where(AssessmentFact.record_id.in_(ids)))
    db.session.execute(
        sa.insert(AssessmentFact),
        [
            {
                "team_id": r.team_id,
                "occurred_at": r.occurred_at,
                "record_id": r.id,
                "officer_id": r.officer_id,
                "kind": r.kind,
                "deleted": r.deleted,
                "review_state": r.review_state,
                "people_count": r.people_count,
                "duration_minutes": r.duration_minutes,
                "notice_seconds": _seconds(r.occurred_at, r.publicised_at),
                "std_mask": masks["standard"].get(r.id, 0),
                "group_mask": masks["group"].get(r.id, 0),
                "contact_role": r.contact_role or "",
                "contact_org": r.contact_org or "",
                "seq": r.seq,
            }
            for r in records
        ],
    )
    if batch:
        batch.after()
    state.seq = records[-1].seq
    return len(records)


def catch_up() -> None:
    """Bring the facts up to date before a read, in transactions of their own.

    The reader's session stays a read: the catch-up runs in a nested app context, which has its
    own session and connection, so a grid request never holds the write lock while it reads,
    and what it reads afterwards includes every record committed before it asked."""
    top, mark, built = _marks()
    if mark == top and built == catalogues().current.tz.key:
        return
    db.session.rollback()  # end any read snapshot, so the next read sees the caught-up facts
    with current_app.app_context():
        refresh()


def refresh() -> int:
    """Bring assessment_fact up to date with the records; returns how many facts were written.

    Cheap when nothing changed (three indexed lookups in one query). Concurrent callers serialise on
    the state row (PostgreSQL) or the database write lock (SQLite), and each reads what to do only
    once it holds it, so no batch is caught up twice.
    """
    codes.catch_up()  # the masks are read from record_standard and record_group
    zone = catalogues().current.tz
    top, mark, built = _marks()
    if mark == top and built == zone.key:
        return 0
    written = 0
    try:
        state = _state()
        # Read again under the lock: another refresh may have caught up meanwhile, and a `top`
        # read before it would look like records going back in time.
        top, _, built = _marks()
        if state.seq == top and built == zone.key:
            db.session.commit()
            return 0
        if state.seq > top:  # the records went back in time (a restore): start again
            db.session.execute(sa.delete(AssessmentFact))
            state.seq = 0
        # Rebuilding every month is cheaper than following a first build batch by batch.
        whole = state.seq == 0 or built != zone.key
        if whole and built is not None:
            rollup.forget()  # committed with the first batch: a crash midway rebuilds them all
        if state.seq == 0 and top > BULK_FROM:
            written = bulk_build(state, top)
        while state.seq < top:
            done = _catch_up(state, top, None if whole else zone)
            if not done:
                state.seq = top  # seqs above the mark with no record left (none expected)
                break
            written += done
            db.session.commit()
            state = _state()
        if whole:
            rollup.rebuild_all(zone)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return written
