"""The migrations: their end state is the models' schema; init-db makes the same; a database not
at head is refused with the command to run; later revisions run in batch mode, atomically."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from scratch_db import empty_postgresql

from server import create_app
from server.cli import main
from server.db import db, migrate
from server.db.create import init_db

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """The URL of an empty database of the dialect."""
    if request.param == "sqlite":
        yield sa.make_url(f"sqlite:///{tmp_path / 'empty.sqlite'}")
        return
    base = os.environ.get("BEATBOOK_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL: set BEATBOOK_TEST_DATABASE_URL")
    with empty_postgresql(base) as url:
        yield url


def app_on(url: sa.URL, **config):
    return create_app(
        {
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "SECRET_KEY": "test",
            "TESTING": True,
            **config,
        }
    )


def differences(url: sa.URL) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_object": migrate.include_object_for(conn.dialect.name),
                    "compare_type": True,
                },
            )
            return compare_metadata(context, migrate.target_metadata())
    finally:
        engine.dispose()


def options(index: dict) -> str:
    return str(sorted((k, str(v)) for k, v in index.get("dialect_options", {}).items()))


def schema(url: sa.URL) -> dict:
    """Everything about the schema that matters, in a comparable form."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            found = {}
            for name in sorted(inspector.get_table_names()):
                found[name] = {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"], str(c.get("computed")))
                        for c in inspector.get_columns(name)
                    ],
                    "pk": inspector.get_pk_constraint(name)["constrained_columns"],
                    "fks": sorted(
                        (
                            tuple(f["constrained_columns"]),
                            f["referred_table"],
                            str(f.get("options")),
                        )
                        for f in inspector.get_foreign_keys(name)
                    ),
                    "indexes": sorted(
                        (
                            i["name"],
                            tuple(i["column_names"]),
                            i["unique"],
                            options(i),
                            str(i.get("include_columns")),
                        )
                        for i in inspector.get_indexes(name)
                    ),
                    "uniques": sorted(
                        tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
                    ),
                }
            if conn.dialect.name == "sqlite":
                for type_, name, sql in conn.exec_driver_sql(
                    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
                ):
                    text = " ".join(sql.split())
                    if type_ == "table":  # only what the inspector does not say
                        found[name]["sqlite"] = ("WITHOUT ROWID" in text, "VIRTUAL" in text)
                    elif type_ == "trigger":
                        found[f"trigger {name}"] = text
            found["rows"] = {
                "sync_counter": conn.execute(sa.text("SELECT id, value FROM sync_counter")).all()
            }
            return found
    finally:
        engine.dispose()


def test_the_migrations_end_where_the_models_are(empty_url):
    """autogenerate finds nothing to do on a database made by the migrations alone."""
    before, after = migrate.upgrade(empty_url)
    assert before.empty and after.at_head
    assert differences(empty_url) == []
    # ...and the objects autogenerate is told to ignore are there, made by the migration.
    made = schema(empty_url)
    if empty_url.get_backend_name() == "sqlite":
        assert made["record_fts"]["sqlite"] == (False, True)
        assert {f"trigger {t}" for t in migrate.SEARCH_TRIGGERS} <= set(made)
        assert made["record_standard"]["sqlite"] == (True, False)
    else:
        columns = {c[0]: c for c in made["record"]["columns"]}
        assert "to_tsvector" in columns["search_doc"][3]
        indexes = {
            i[0]
            for t in made.values()
            if isinstance(t, dict) and "indexes" in t
            for i in t["indexes"]
        }
        assert {"ix_record_search_doc", "ix_assessment_fact_scan"} <= indexes


def test_a_model_change_without_a_revision_is_found(tmp_path):
    url = sa.make_url(f"sqlite:///{tmp_path / 'x.sqlite'}")
    migrate.upgrade(url)
    table = migrate.target_metadata().tables["device"]
    extra = sa.Column("nickname", sa.String(20))
    table.append_column(extra)
    try:
        assert [d[0] for d in differences(url)] == ["add_column"]
    finally:
        table._columns.remove(extra)


def test_init_db_makes_what_the_migrations_make(empty_url, tmp_path):
    app = app_on(empty_url)
    with app.app_context():
        init_db()
        init_db()  # again: nothing changes
        db.session.remove()
        db.engine.dispose()
    made_by_init = schema(empty_url)
    if empty_url.get_backend_name() == "sqlite":
        other = sa.make_url(f"sqlite:///{tmp_path / 'migrated.sqlite'}")
        migrate.upgrade(other)
        assert schema(other) == made_by_init
    else:
        with empty_postgresql(os.environ["BEATBOOK_TEST_DATABASE_URL"]) as other:
            migrate.upgrade(other)
            assert schema(other) == made_by_init
    engine = sa.create_engine(empty_url)
    with engine.connect() as conn:
        assert migrate.status(conn).at_head
    engine.dispose()


def test_the_app_refuses_a_database_not_at_head(tmp_path):
    url = sa.make_url(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with pytest.raises(migrate.SchemaError, match=r"no tables: run `beatbook init-db`"):
        app_on(url, CHECK_SCHEMA=True)
    migrate.upgrade(url)
    app_on(url, CHECK_SCHEMA=True)  # at head: starts
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'v9_9_9'"))
    engine.dispose()
    with pytest.raises(migrate.SchemaError, match="newer than this Beatbook"):
        app_on(url, CHECK_SCHEMA=True)
    with pytest.raises(migrate.SchemaError, match="cannot be upgraded by this version"):
        migrate.upgrade(url)


def test_db_commands_take_a_1_0_0_database_to_head(tmp_path):
    """The 1.0.0 database has no alembic_version: current says so, init-db and serve refuse
    with the command to run, db upgrade stamps and upgrades it."""
    from click.testing import CliRunner

    url = sa.make_url(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate.upgrade(url, migrate.BASELINE)  # 1.0.0's schema...
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))  # ...as 1.0.0 made it
    engine.dispose()
    env = {"BEATBOOK_DATABASE_URL": str(url)}
    runner = CliRunner()
    current = runner.invoke(main, ["db", "current"], env=env)
    assert "Beatbook 1.0.0, made before migrations" in current.output
    refused = runner.invoke(main, ["init-db"], env=env)
    assert refused.exit_code == 1 and "run `beatbook db upgrade`" in refused.output
    upgraded = runner.invoke(main, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"stamped it {migrate.BASELINE}" in upgraded.output
    assert "(head)" in runner.invoke(main, ["db", "current"], env=env).output
    assert "is at" in runner.invoke(main, ["db", "upgrade"], env=env).output
    history = runner.invoke(main, ["db", "history"], env=env).output
    assert history.startswith(f"{migrate.BASELINE}") and "ba8137e" in history


def test_serve_refuses_a_database_behind_head_in_one_line(tmp_path):
    path = tmp_path / "old.sqlite"
    migrate.upgrade(f"sqlite:///{path}")
    with sa.create_engine(f"sqlite:///{path}").begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEATBOOK_")}
    env.update(BEATBOOK_DATABASE_URL=f"sqlite:///{path}", BEATBOOK_SECRET_KEY="s" * 40)
    result = subprocess.run(
        [sys.executable, "-c", "from server.cli import main; main()", "serve", "--port", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2  # a configuration problem: exit 2, as every one
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith("then run `beatbook db upgrade`.")


# --- a later revision, as the next release will add one ------------------------------------

LATER = """
from alembic import op
import sqlalchemy as sa

revision = "v_later"
down_revision = "{down}"


def upgrade():
    with op.batch_alter_table("record_standard"{kwargs}) as batch:
        batch.add_column(sa.Column("weight", sa.Integer(), nullable=True))
    with op.batch_alter_table("record") as batch:
        batch.alter_column("place", type_=sa.String(300), existing_nullable=False)
    {triggers}
"""


@pytest.fixture
def later_revision(tmp_path, monkeypatch):
    """Write a copy of the migrations with one more revision; returns write(kwargs, triggers)."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    migrate.scripts.cache_clear()

    head = migrate.head()

    def write(kwargs: str, triggers: str) -> None:
        (copy / "versions" / "v_later.py").write_text(
            textwrap.dedent(LATER.format(down=head, kwargs=kwargs, triggers=triggers))
        )
        migrate.scripts.cache_clear()

    yield write
    migrate.scripts.cache_clear()


RECREATE_TRIGGERS = """
    from server.db.migrate import baseline_module

    base = baseline_module()
    for statement in base.SQLITE_SEARCH[1:]:
        op.execute(statement)
"""


@pytest.fixture
def old_database(app, device, later_revision):
    """The app's database at the head before the later revision, with records; returns (url,
    record ids)."""
    from helpers import create_change

    changes = [create_change(device, summary=f"Harbour patrol {n}") for n in range(3)]
    assert device.push(changes).status_code == 200
    with app.app_context():
        url = db.engine.url
        db.engine.dispose()
    return url, [c["id"] for c in changes]


def record_rows(url):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = (
            conn.execute(sa.text("SELECT * FROM record ORDER BY id")).all(),
            conn.execute(sa.text("SELECT * FROM record_standard ORDER BY 1, 2")).all(),
        )
    engine.dispose()
    return rows


@pytest.mark.skipif(
    os.environ.get("BEATBOOK_TEST_DATABASE_URL") is not None, reason="SQLite's batch mode"
)
def test_a_batch_revision_that_loses_sqlite_objects_changes_nothing(old_database, later_revision):
    url, _ids = old_database
    before = record_rows(url)
    was = migrate.head()  # what the database is at: the later revision is not written yet
    # Batch mode copies WITHOUT ROWID from the reflected table; a revision can still lose it.
    later_revision(
        kwargs=', recreate="always", table_kwargs={"sqlite_with_rowid": True}', triggers=""
    )
    with pytest.raises(migrate.SchemaError, match="lose trigger record_fts_insert.*WITHOUT ROWID"):
        migrate.upgrade(url)
    assert record_rows(url) == before
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert migrate.status(conn).revision == was
        columns = [c["name"] for c in sa.inspect(conn).get_columns("record_standard")]
    engine.dispose()
    assert "weight" not in columns


@pytest.mark.skipif(
    os.environ.get("BEATBOOK_TEST_DATABASE_URL") is not None, reason="SQLite's batch mode"
)
def test_a_batch_revision_keeps_every_row_and_the_search(old_database, later_revision):
    url, ids = old_database
    before = record_rows(url)
    later_revision(kwargs=', recreate="always"', triggers=RECREATE_TRIGGERS)
    _, after = migrate.upgrade(url)
    assert after.revision == "v_later"
    records, standards = record_rows(url)
    assert records == before[0]
    assert [row[:2] for row in standards] == [tuple(row) for row in before[1]]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE record SET summary = 'Lighthouse visit' WHERE id = :id"), {"id": ids[0]}
        )
        found = (
            conn.execute(
                sa.text(
                    "SELECT r.id FROM record_fts JOIN record r ON r.seq = record_fts.rowid "
                    "WHERE record_fts MATCH 'lighthouse'"
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert found == [ids[0]]


def test_every_migration_file_ships_in_the_package():
    """Alembic loads the migrations by path, not as a package: pyproject's package data must
    name each of them, or an installed (non-editable) Beatbook could not upgrade."""
    import fnmatch
    import tomllib

    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["server.db"]
    package = REPO / "server" / "db"
    files = [
        p.relative_to(package).as_posix()
        for p in (package / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert "migrations/versions/v1_0_0_baseline.py" in files
    assert [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)] == []


def test_the_next_revision_is_drafted_in_batch_mode(later_revision):
    head = migrate.head()
    table = migrate.target_metadata().tables["device"]
    extra = sa.Column("nickname", sa.String(20))
    table.append_column(extra)
    try:
        path = migrate.autogenerate("device nickname", "v_draft")
    finally:
        table._columns.remove(extra)
    text = path.read_text()
    assert f"down_revision = '{head}'" in text or f'down_revision = "{head}"' in text
    assert "with op.batch_alter_table('device'" in text and "nickname" in text
