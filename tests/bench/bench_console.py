"""Times the console's logs page on a force's worth of records.

Seeds N records with the shared bulk seeder (tests/bench/seed.py: bulk inserts into the real
tables), builds the full-text index, then asks the logs page for several filter
combinations through the Flask test client, signed in as an admin (the whole force) and as a
supervisor (one team), and prints the median and worst time of each.

    .venv/bin/python tests/bench/bench_console.py                       # 1,000,000 records, SQLite
    .venv/bin/python tests/bench/bench_console.py --records 100000
    .venv/bin/python tests/bench/bench_console.py --db /tmp/console-bench.sqlite   # keep and reuse
    .venv/bin/python tests/bench/bench_console.py --url postgresql://postgres@127.0.0.1:5432/mine
    .venv/bin/python tests/bench/bench_console.py --postgres postgresql://postgres@127.0.0.1/test
        # a database of its own on that server, seeded, measured and dropped
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench.seed import PASSWORD, analyse, seed  # noqa: E402

from server import create_app  # noqa: E402
from server.db import db, migrate  # noqa: E402
from server.db.models import Record, Team, User  # noqa: E402
from server.db.search import install_search, rebuild_search  # noqa: E402
from server.db.writers import install_sequence  # noqa: E402

BUDGET_MS = 500


def prepare(url: str, records: int) -> None:
    """Seed an empty database in bulk, then build the search index in one pass (faster than its
    triggers firing a million times); a database that has records is reused as it is."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        engine = db.engine
        db.create_all()
        have = db.session.scalar(sa.select(sa.func.count()).select_from(Team))
        db.session.remove()
        if not have:
            started = time.perf_counter()
            summary = seed(engine, records=records, progress=True)
            print(
                f"seeded {summary['records']:,} records in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            started = time.perf_counter()
            install_search()  # the search table and triggers, as on a live server
            install_sequence()  # PostgreSQL's seqs
            rebuild_search()
            migrate.stamp_head(engine)  # the head schema: create_all, then the search objects
            analyse(engine)
            print(f"search index built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        else:
            db.session.remove()
            migrate.upgrade(engine.url)  # brings an older bench database up to date
            analyse(engine)
            count = db.session.scalar(sa.select(sa.func.count()).select_from(Record))
            print(f"reusing {count:,} records", file=sys.stderr)
        db.session.remove()
        engine.dispose()


def signed_in(app, username: str):
    client = app.test_client()
    client.get("/console/sign-in")
    with client.session_transaction() as session:
        token = session["csrf"]
    response = client.post(
        "/console/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def time_page(client, url: str, repeat: int) -> tuple[float, float, int]:
    times = []
    rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data(as_text=True)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        rows = len(set(re.findall(r'href="/console/records/([0-9a-f-]{36})[?"]', body)))
    return statistics.median(times), max(times), rows


def cases(app) -> list[tuple[str, str, str]]:
    """(who, label, url) for the combinations a supervisor actually uses, and some rare ones."""
    with app.app_context():
        team = db.session.scalar(sa.select(Team).order_by(Team.id))
        sergeant = db.session.scalar(
            sa.select(User.username).where(User.role == "supervisor", User.team_id == team.id)
        )
        officer = db.session.scalar(
            sa.select(User.id).where(User.role == "officer", User.team_id == team.id)
        )
        newest = db.session.scalar(sa.select(sa.func.max(Record.occurred_at))).date()
        admin = db.session.scalar(sa.select(User.username).where(User.role == "admin"))
    month = (newest - timedelta(days=30)).isoformat()
    year_ago = (newest - timedelta(days=365)).isoformat()
    old = (newest - timedelta(days=700)).isoformat()
    old_end = (date.fromisoformat(old) + timedelta(days=14)).isoformat()
    base = "/console/records"
    force = [
        ("no filter", ""),
        ("newest received", "?sort=received"),
        ("team", f"?team={team.code}"),
        ("officer", f"?officer={officer}"),
        ("kind (common)", "?kind=face_to_face"),
        ("kind (rare)", "?kind=web_page_update"),
        ("last 30 days", f"?date_from={month}"),
        ("a fortnight 2 years ago", f"?date_from={old}&date_to={old_end}"),
        ("standard", "?standard=KCL"),
        ("group reached", "?group=young_people"),
        ("review returned", "?review=returned"),
        ("has conflict", "?conflict=yes"),
        ("deleted", "?show=deleted"),
        ("search common word", "?q=shoplifting"),
        ("search two words", "?q=catalytic+converter"),
        ("search word, no match", "?q=zebracrossingzzz"),
        ("search + team", f"?q=fly-tipping&team={team.code}"),
        ("search + kind + year", f"?q=parking&kind=school_visit&date_from={year_ago}"),
        (
            "team + kind + review + dates",
            f"?team={team.code}&kind=face_to_face&review=pending&date_from={year_ago}",
        ),
        ("standard + group + review", "?standard=SELDOM&group=young_people&review=approved"),
        (
            "everything",
            f"?q=speeding&team={team.code}&kind=face_to_face&standard=F2F"
            f"&review=approved&date_from={old}",
        ),
    ]
    mine = [
        ("no filter", ""),
        ("waiting review", "?review=pending"),
        ("newest received", "?sort=received"),
        ("resubmitted", "?review=resubmitted"),
        ("search", "?q=burglary"),
        ("kind + dates", f"?kind=key_contact&date_from={year_ago}"),
    ]
    return [(admin, label, base + q) for label, q in force] + [
        (sergeant, label, base + q) for label, q in mine
    ]


def with_deep_page(client, url: str) -> str:
    """The same filter 20 pages in, reached by following 'Older' links (keyset cursors)."""
    for _ in range(20):
        body = client.get(url).get_data(as_text=True)
        found = re.search(r'href="(/console/records\?after=[^"]+)" rel="next"', body)
        if not found:
            return url
        url = found.group(1).replace("&amp;", "&")
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--db", help="SQLite file to create or reuse (default: a temporary one)")
    parser.add_argument("--url", help="database URL instead of --db (e.g. your own PostgreSQL db)")
    parser.add_argument(
        "--postgres",
        help="a PostgreSQL server URL: a database is made on it, seeded, measured and dropped",
    )
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    if args.postgres:
        from bench.sync_server import temporary_postgres

        from server.db.engine import database_url

        with temporary_postgres(database_url(args.postgres)) as url:
            return run(url, args)
    scratch = None if args.url or args.db else Path(tempfile.mkdtemp(prefix="console-bench-"))
    url = args.url or f"sqlite:///{args.db or scratch / 'bench.sqlite'}"
    try:
        return run(url, args)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def run(url: str, args: argparse.Namespace) -> int:
    prepare(url, args.records)

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    clients: dict[str, object] = {}
    over = 0
    print(f"\n{'who':<14} {'filters':<32} {'median ms':>10} {'worst ms':>9} {'rows':>5}")
    all_cases = cases(app)
    deep = with_deep_page(signed_in(app, "bench.admin"), "/console/records?kind=face_to_face")
    all_cases.append(("bench.admin", "kind, 20 pages deep", deep))
    for who, label, page_url in all_cases:
        client = clients.get(who) or clients.setdefault(who, signed_in(app, who))
        client.get(page_url)  # warm: the first request of a filter pays for the page cache
        median, worst, rows = time_page(client, page_url, args.repeat)
        over += median > BUDGET_MS
        flag = "" if median <= BUDGET_MS else "  OVER BUDGET"
        print(f"{who[:14]:<14} {label:<32} {median:>10.1f} {worst:>9.1f} {rows:>5}{flag}")
    print(f"\n{over} of {len(all_cases)} over the {BUDGET_MS} ms budget (median).")
    with app.app_context():
        db.engine.dispose()
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
