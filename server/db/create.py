"""Creating the database."""

from sqlalchemy import select

from server.db import db, migrate
from server.db.append_only import install_append_only
from server.db.models import SyncCounter
from server.db.search import install_search
from server.db.writers import install_sequence, set_high_water


def init_db() -> None:
    """Create the head schema in an empty database and stamp it; on a database already at head
    change nothing. A database behind head is refused: `beatbook db upgrade` moves it."""
    with db.engine.connect() as conn:
        found = migrate.status(conn)
    if not found.empty:
        migrate.require_head(db.engine)
    db.create_all()
    install_search()
    install_sequence()
    install_append_only()
    if db.session.scalar(select(SyncCounter).where(SyncCounter.id == 1)) is None:
        db.session.add(SyncCounter(id=1, value=0))
        db.session.flush()
        # A sequence left by tables dropped by hand would hand out seqs far past the counter,
        # and a cursor the new database never gave would then pass for one it did.
        set_high_water(db.session, 0)
        db.session.commit()
    if found.empty:
        migrate.stamp_head(db.engine)
