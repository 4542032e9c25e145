"""The supervisor console: server-rendered pages under /console for supervisors, admins and panel.

Each view module registers its routes on `bp`; registering the blueprint also installs CSRF
checking and the layout's navigation for every page under /console (assessment pages included).
"""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.record_once
def _install(state) -> None:
    from server.console.csrf import init_csrf
    from server.console.layout import init_layout
    from server.console.timefmt import init_time_filters

    init_csrf(state.app)
    init_layout(state.app)
    init_time_filters(state.app)


# View modules register their routes on bp.
from server.console import (  # noqa: E402,F401
    access_log, activity, conflicts, export, people_views, record_view, records, review, signin,
)
