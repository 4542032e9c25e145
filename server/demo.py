"""A realistic demo force: four teams, their officers and months of engagement records.

The records go through the same write path as a phone's push (server.sync.push.push), so the
change log, revisions and conflicts look exactly as they would in service.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from server.accounts.auth import token_digest
from server.accounts.people import add_team, add_user
from server.clock import utcnow
from server.db import db
from server.db.models import Device

PASSWORD = "beatbook-demo"
TEAMS = [
    ("NPT-WEY", "Weymouth Town NPT", "Weymouth town centre, Melcombe Regis and Westham"),
    ("NPT-BRI", "Bridport and Lyme NPT", "Bridport, Lyme Regis and the Marshwood Vale"),
    ("NPT-BOC", "Bournemouth Central NPT", "Bournemouth town centre, Boscombe and Springbourne"),
    ("NPT-SHA", "Shaftesbury and Gillingham NPT", "Shaftesbury, Gillingham and the Blackmore Vale"),
]
# (username, display name, role, team index)
PEOPLE = [
    ("sgt.patel", "Sgt 2141 Patel", "supervisor", 0),
    ("pc.okafor", "PC 3310 Okafor", "officer", 0),
    ("pcso.hughes", "PCSO 7702 Hughes", "officer", 0),
    ("pcso.wright", "PCSO 7719 Wright", "officer", 0),
    ("sgt.morgan", "Sgt 2207 Morgan", "supervisor", 1),
    ("pc.lewis", "PC 3402 Lewis", "officer", 1),
    ("pcso.ahmed", "PCSO 7731 Ahmed", "officer", 1),
    ("sgt.clarke", "Sgt 2310 Clarke", "supervisor", 2),
    ("pc.nowak", "PC 3521 Nowak", "officer", 2),
    ("pcso.evans", "PCSO 7755 Evans", "officer", 2),
    ("pcso.begum", "PCSO 7760 Begum", "officer", 2),
    ("sgt.fox", "Sgt 2355 Fox", "supervisor", 3),
    ("pc.singh", "PC 3608 Singh", "officer", 3),
    ("pcso.reid", "PCSO 7790 Reid", "officer", 3),
]
DEMO_LOGINS = [
    ("pc.okafor", PASSWORD, "officer, NPT-WEY Weymouth Town NPT (the officers' app at /)"),
    ("sgt.patel", PASSWORD, "supervisor, NPT-WEY Weymouth Town NPT (the console at /console/)"),
    ("admin", PASSWORD, "admin, the whole force"),
    ("panel", PASSWORD, "Commissioner's panel, read-only assessment"),
]
PLACES = [
    "High Street",
    "the market",
    "Co-op car park",
    "the library",
    "St Mary's school gates",
    "the leisure centre",
    "Community centre",
    "Parish hall",
    "the seafront",
    "Railway station",
    "Tesco Express",
    "the youth club",
    "the mosque",
    "Methodist church hall",
    "Village green",
]
CONTACTS = [
    ("Head teacher", "St Mary's Primary"),
    ("Chair", "Residents' Association"),
    ("Imam", "Central Mosque"),
    ("Manager", "Town Centre BID"),
    ("Warden", "Sheltered housing"),
    ("Clerk", "Town Council"),
    ("Vicar", "St John's Church"),
    ("Coordinator", "Food bank"),
    ("Youth worker", "Youth club"),
    ("Manager", "Homeless shelter"),
]
SUMMARIES = {
    "face_to_face": [
        "Spoke with shop staff about shoplifting and the new radio scheme.",
        "Foot patrol; residents raised speeding on the main road.",
        "Chatted with parents at the school gate about parking.",
        "Reassurance patrol after a burglary; gave crime prevention advice.",
    ],
    "key_contact": [
        "Catch-up on antisocial behaviour near the park.",
        "Agreed joint patrol times around the evening economy.",
    ],
    "beat_surgery": ["Beat surgery: questions on drug dealing and parking."],
    "community_meeting": ["PACT meeting: priorities agreed were ASB and speeding."],
    "school_visit": ["Assembly on online safety for years 5 and 6."],
    "partner_meeting": [
        "Problem-solving meeting with housing and the council on a nuisance address."
    ],
    "social_media_post": ["Posted an appeal and a burglary prevention reminder."],
    "web_page_update": ["Updated the team page: new PCSO, priorities and surgery dates."],
    "community_alert": ["Alert sent about catalytic converter thefts."],
    "feedback": [
        "You said speeding on the high road; we did six speed checks, 14 drivers stopped."
    ],
    "priority_review": ["Reviewed priorities with residents; ASB stays, add cycle thefts."],
    "outreach": ["Drop-in at the youth club; talked about knife crime and reporting."],
}
WEIGHTS = {
    "face_to_face": 40,
    "key_contact": 6,
    "beat_surgery": 3,
    "community_meeting": 2,
    "school_visit": 3,
    "partner_meeting": 3,
    "social_media_post": 8,
    "web_page_update": 1,
    "community_alert": 3,
    "feedback": 2,
    "priority_review": 1,
    "outreach": 3,
}


def _record(rng: random.Random, kind: str, when: datetime, catalogue, groups) -> dict:
    data = {
        "schema_version": 2,
        "occurred_at": when.isoformat(),
        "kind": kind,
        "standards": catalogue.default_standards(kind),
        "place": rng.choice(PLACES),
        "location": None,
        "duration_minutes": rng.choice([10, 15, 20, 30, 45, 60, 90]),
        "people_count": rng.randint(1, 6) if kind == "face_to_face" else rng.randint(3, 40),
        "groups": rng.sample(groups, k=rng.choice([0, 1, 1, 2])),
        "summary": rng.choice(SUMMARIES[kind]),
        "follow_up": rng.choice(["", "", "Revisit next week.", "Refer to council ASB team."]),
        "publicised_at": None,
        "contact_role": "",
        "contact_org": "",
        "public": kind == "feedback",
    }
    if kind in ("beat_surgery", "community_meeting", "priority_review"):
        data["publicised_at"] = (
            when - timedelta(days=rng.choice([2, 5, 8, 10, 14, 21]))
        ).isoformat()
    if kind == "key_contact":
        data["contact_role"], data["contact_org"] = rng.choice(CONTACTS)
    if rng.random() < 0.3:
        data["location"] = {
            "lat": round(50.6 + rng.random() * 0.4, 5),
            "lon": round(-2.9 + rng.random() * 1.0, 5),
            "accuracy_m": rng.choice([5, 12, 30]),
        }
    return data


def seed_demo(months: int = 6, seed: int = 7, now: datetime | None = None) -> int:
    """Create the demo force and push its records; returns how many records were made."""
    from server.catalogues import catalogues, vocabularies

    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    teams = [add_team(code, name, area) for code, name, area in TEAMS]
    add_user("admin", PASSWORD, "admin", None, "Insp 1001 Admin")
    add_user("panel", PASSWORD, "panel", None, "PCC panel member")
    catalogue = catalogues().current
    groups = sorted(vocabularies().group_codes)
    kinds, weights = zip(*WEIGHTS.items())
    total = 0
    for username, display, role, team_index in PEOPLE:
        user = add_user(username, PASSWORD, role, teams[team_index].code, display)
        if role != "officer":
            continue
        device = Device(
            id=secrets.token_hex(16),
            user_id=user.id,
            name=f"{display} phone",
            token_hash=token_digest(secrets.token_urlsafe(32)),
            last_seen_at=utcnow(),
        )
        db.session.add(device)
        db.session.commit()
        changes = []
        day = now - timedelta(days=30 * months)
        while day < now - timedelta(hours=2):
            for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
                when = day.replace(
                    hour=rng.randint(7, 21), minute=rng.randint(0, 59), second=0, microsecond=0
                )
                if when >= now:
                    continue
                kind = rng.choices(kinds, weights)[0]
                stamp = f"{int(when.timestamp() * 1000):015d}-00000-{device.id}"
                changes.append(
                    {
                        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "op": "upsert",
                        "hlc": stamp,
                        "base_rev": None,
                        "data": _record(rng, kind, when, catalogue, groups),
                    }
                )
            day += timedelta(days=1)
        for start in range(0, len(changes), 500):
            _push(user, device, now, changes[start : start + 500])
        total += len(changes)
    total += _priority_loop(rng, now, catalogue)
    _supervise(rng, now)
    return total


# (title for the public, concern category, two phrases people used, kinds of action).
PRIORITIES = [
    (
        "Speeding on the high road",
        "speeding",
        ("cars racing after the school run", "motorbikes on the footpath at night"),
        ["partner_meeting", "face_to_face"],
    ),
    (
        "Antisocial behaviour in the park",
        "antisocial_behaviour",
        ("groups drinking by the swings", "broken glass on the play area"),
        ["face_to_face", "outreach"],
    ),
    (
        "Parking at the school gates",
        "parking",
        ("parents parking on the zig-zags", "cars blocking driveways at pick-up"),
        ["school_visit"],
    ),
]
FEEDBACK_TEXT = {
    "speeding": "You said speeding on the high road; we did speed checks with the council's "
    "camera van and 14 drivers were stopped.",
    "antisocial_behaviour": "You said drinking in the park; we patrolled evenings and the "
    "council moved the benches.",
    "parking": "You said parking at the school gates; we spoke with parents at pick-up and "
    "put up signs.",
}


def _push(user, device, now, changes: list[dict]) -> None:
    """One batch from a demo phone, through the real push."""
    from server.sync.push import push

    push(
        user,
        device,
        {
            "batch_id": uuid.uuid4().hex,
            "device_now": now,
            "pending": 0,
            "app_version": "demo",
            "changes": changes,
        },
    )


def _priority_loop(rng: random.Random, now: datetime, catalogue) -> int:
    """Each team's local priorities: concerns raised, a priority set at a community meeting,
    actions and "you said, we did" feedback linked to it; one ended, one still open, one new."""
    from sqlalchemy import select

    from server.db.models import Team, User

    made = 0
    for team in db.session.scalars(select(Team).order_by(Team.id)).all():
        officers = db.session.scalars(
            select(User).where(User.team_id == team.id, User.role == "officer").order_by(User.id)
        ).all()
        user = officers[0]
        device = db.session.scalar(select(Device).where(Device.user_id == user.id))
        assert device is not None  # seeded above
        changes: list[dict] = []

        def add(kind: str, days_ago: float, **fields) -> str:
            when = (now - timedelta(days=days_ago)).replace(second=0, microsecond=0)
            record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            data = {
                "schema_version": 2,
                "occurred_at": when.isoformat(),
                "kind": kind,
                "standards": catalogue.default_standards(kind),
                "summary": fields.pop("summary", rng.choice(SUMMARIES.get(kind, ["Priority"]))),
                **fields,
            }
            stamp = f"{int(when.timestamp() * 1000):015d}-{len(changes):05d}-{device.id}"
            changes.append(
                {"id": record_id, "op": "upsert", "hlc": stamp, "base_rev": None, "data": data}
            )
            return record_id

        order = rng.sample(range(len(PRIORITIES)), len(PRIORITIES))
        for position, (set_ago, state) in enumerate(
            ((75, "resolved"), (40, "in_progress"), (8, "open"))
        ):
            title, category, phrases, actions = PRIORITIES[order[position]]
            raised = [
                add(
                    kind,
                    set_ago + rng.randint(3, 12),
                    concerns=[{"category": category, "phrase": phrase}],
                )
                for kind, phrase in zip(
                    rng.sample(["face_to_face", "beat_surgery", "community_meeting"], 2), phrases
                )
            ]
            meeting = add("community_meeting", set_ago, people_count=rng.randint(8, 30))
            fields: dict = {
                "title": title,
                "summary": f"Set at the community meeting from residents' concerns: {title}.",
                "priority_status": state,
                "concern_record_ids": raised,
                "meeting_id": meeting,
                "owner_id": rng.choice(officers).id,
                "public": position != 1,  # one priority's title is for the team only
                "review_by": (now - timedelta(days=set_ago - 30)).date().isoformat(),
            }
            if state == "resolved":
                fields["closed_on"] = (now - timedelta(days=set_ago - 45)).date().isoformat()
            priority = add("local_priority", set_ago - 0.01, **fields)
            for step, kind in enumerate(actions):
                if set_ago - 4 - 6 * step > 0:
                    add(kind, set_ago - 4 - 6 * step, priority_id=priority)
            if set_ago > 30:
                add("priority_review", set_ago - 28, priority_id=priority)
                answered = set_ago - rng.choice([12, 20, 35])
                add(
                    "feedback",
                    answered,
                    priority_id=priority,
                    public=True,
                    summary=FEEDBACK_TEXT[category],
                )
        _push(user, device, now, changes)
        made += len(changes)
    return made


RETURN_COMMENTS = [
    "Please add which groups you reached and how many people came.",
    "Summary names a member of the public: reword it without the name.",
]


def _supervise(rng: random.Random, now: datetime) -> None:
    """Sergeants have reviewed some of the older records, returned a few, and one conflict waits."""
    from sqlalchemy import select

    from server.db.models import Record, User
    from server.records.review import review_record
    from server.sync.push import push

    for sergeant in db.session.scalars(select(User).where(User.role == "supervisor")).all():
        older = db.session.scalars(
            select(Record.id)
            .where(
                Record.team_id == sergeant.team_id,
                Record.occurred_at < (now - timedelta(days=14)).replace(tzinfo=None),
            )
            .order_by(Record.occurred_at.desc())
            .limit(30)
        ).all()
        for record_id in older:
            review_record(sergeant, record_id, "approved")
        # "You said, we did" feedback (and a priority's title) reaches the public page only once
        # a sergeant approved it.
        for record_id in db.session.scalars(
            select(Record.id).where(
                Record.team_id == sergeant.team_id,
                Record.kind.in_(("feedback", "local_priority")),
            )
        ).all():
            review_record(sergeant, record_id, "approved")
        # Each officer has a recent record sent back, so the demo shows the whole round trip.
        for officer in db.session.scalars(
            select(User).where(User.team_id == sergeant.team_id, User.role == "officer")
        ).all():
            recent = db.session.scalar(
                select(Record.id)
                .where(
                    Record.officer_id == officer.id,
                    Record.kind.not_in(("feedback", "local_priority")),
                )
                .order_by(Record.occurred_at.desc())
                .offset(3)
                .limit(1)
            )
            if recent:
                review_record(sergeant, recent, "returned", rng.choice(RETURN_COMMENTS))

    # Two phones of one officer changed the same summary while both were out of signal.
    okafor = db.session.scalar(select(User).where(User.username == "pc.okafor"))
    assert okafor is not None  # seeded above
    record = db.session.scalar(
        select(Record)
        .where(Record.officer_id == okafor.id)
        .order_by(Record.occurred_at.desc())
        .limit(1)
    )
    first = db.session.scalar(select(Device).where(Device.user_id == okafor.id))
    assert record is not None and first is not None  # seeded above
    second = Device(
        id=secrets.token_hex(16),
        user_id=okafor.id,
        name="PC 3310 Okafor spare phone",
        token_hash=token_digest(secrets.token_urlsafe(32)),
        last_seen_at=utcnow(),
        pending=3,
        last_sync_at=utcnow() - timedelta(days=9),
    )
    db.session.add(second)
    db.session.commit()
    base = int(now.timestamp() * 1000) - 60_000
    seen_rev, original = record.rev, record.summary
    for phone, offset, summary in (
        (first, 0, original + " Shop manager to call back."),
        (second, 5_000, original + " Follow-up visit booked."),
    ):
        push(
            okafor,
            phone,
            {
                "batch_id": uuid.uuid4().hex,
                "device_now": now,
                "pending": 0,
                "app_version": "demo",
                "changes": [
                    {
                        "id": record.id,
                        "op": "upsert",
                        "base_rev": seen_rev,
                        "hlc": f"{base + offset:015d}-00000-{phone.id}",
                        "data": {"summary": summary},
                    }
                ],
            },
        )
