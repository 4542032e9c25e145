"""Run the app under gunicorn from the `beatbook serve` command."""

from __future__ import annotations

import gc
import os

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, production: bool):
        self.options = options
        self.production = production
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from server import create_app

        app = create_app({"ENV": "production"} if self.production else None)
        # The app's own objects (routes, schemas, catalogues) live as long as the worker: move
        # them out of the collector's sight, so the collections a push's allocations trigger
        # walk only the request's objects (a third of the collector's time per push).
        gc.collect()
        gc.freeze()
        return app


# gunicorn's default logs the request line and the referrer, both with their query strings:
# search words, filters and a sign-in's `next` would sit in a plain-text log outside the access
# log's rules. %(U)s is the path alone; the referrer is left out.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'


def run_gunicorn(
    host, port, workers, certfile=None, keyfile=None, *, production=True, threads: int = 4
) -> None:
    from server import create_app
    from server.db.check import check_database
    from server.worker import BeatbookWorker

    # Fail before listening, with a clear message, if the configuration is unsafe or the
    # database cannot be used.
    app = create_app({"ENV": "production"} if production else None)
    check_database(app)
    BeatbookWorker.read_timeout = app.config["READ_TIMEOUT"]  # the workers fork from here
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads, so that a phone sending its body slowly holds one thread, not a worker
        # (server/worker.py); writes still take the database's lock one at a time.
        "worker_class": BeatbookWorker,
        "threads": threads,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "timeout": 60,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }
    if certfile:
        options.update(certfile=certfile, keyfile=keyfile)
    _Gunicorn(options, production).run()
