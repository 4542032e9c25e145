"""The catch-up indexer: after commits that wrote records, a worker's own thread brings the
derived rows up to date (server/records/codes.py), outside the request and its lock.

The push answers as soon as it commits; the thread then catches up in its own transaction
(on SQLite it queues for the write lock like any writer). It is only a head start: every
reader of the derived rows catches up first, so a thread that is busy, behind or killed with
its worker costs a reader a few milliseconds, never a stale answer.

It waits for a lull: a catch-up runs once the worker has committed nothing for QUIET_SECONDS,
or MOST_SECONDS after the first commit it has not covered, and covers every commit since.
A catch-up is a handful of statements, and after each one the thread waits for the worker's
GIL (up to a switch interval, 5 ms) while it holds SQLite's write lock, so one catch-up per
push made the next push wait on it: a phone pushing batch after batch went 10-30% slower.
Under a steady stream of pushes a reader finds at most about MOST_SECONDS of records to catch
up for itself (a few thousand: tens of milliseconds).

Tests run without the thread (`CATCH_UP_AFTER_COMMIT` False, the default under TESTING), so
that every read path is shown to catch up for itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.db import db
from server.records import codes

KEY = "beatbook.indexer"
WROTE_RECORDS = "beatbook.wrote_records"  # Session.info: this transaction wrote records
QUIET_SECONDS, MOST_SECONDS = 0.25, 1.0
log = logging.getLogger(__name__)


class Indexer:
    """One thread per worker process, woken after each commit that wrote records."""

    def __init__(self, app: Flask):
        self.app = app
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def poke(self) -> None:
        with self._guard:
            # A worker forked from a process that had the thread does not have it.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._wake = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._wake,), name="beatbook-indexer", daemon=True
                )
                self._thread.start()
            self._wake.set()

    def _run(self, wake: threading.Event) -> None:
        while True:
            wake.wait()
            wake.clear()
            first = time.monotonic()  # a lull, or at most MOST_SECONDS
            while time.monotonic() - first < MOST_SECONDS and wake.wait(QUIET_SECONDS):
                wake.clear()
            with self.app.app_context():
                try:
                    codes.catch_up()
                except Exception as exc:  # the next reader catches up instead
                    log.warning("catch-up index not brought up to date: %s", exc)
                finally:
                    db.session.remove()


def init_indexer(app: Flask) -> None:
    if app.config.get("CATCH_UP_AFTER_COMMIT", not app.testing):
        app.extensions[KEY] = Indexer(app)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(WROTE_RECORDS, False) and has_app_context():
        indexer = current_app.extensions.get(KEY)
        if indexer is not None:
            indexer.poke()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(WROTE_RECORDS, None)
