"""Creating the database."""

from sqlalchemy import select

from server.db import db
from server.db.models import SyncCounter
from server.db.search import install_search


def init_db() -> None:
    """Create every table and the sync counter row; running it again changes nothing."""
    db.create_all()
    install_search()
    if db.session.scalar(select(SyncCounter).where(SyncCounter.id == 1)) is None:
        db.session.add(SyncCounter(id=1, value=0))
        db.session.commit()
