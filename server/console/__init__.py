"""The supervisor console: server-rendered pages under /console for supervisors, admins and panel.

Each view module owns its blueprint (records, record, review, bulk, conflicts, people, export,
activity, access_log, signin, assessment, meetings, priorities, alerts, accounts, protection);
`server.create_app` registers them. What every page shares (CSRF, the layout, time
formatting) is `server.web`.
"""

from server.console import (
    access_log,
    accounts,
    activity,
    alerts,
    assessment,
    bulk,
    conflicts,
    export,
    meetings,
    people,
    priorities,
    protection,
    record,
    records,
    review,
    signin,
)

BLUEPRINTS = tuple(
    module.bp
    for module in (
        signin,
        records,
        record,
        review,
        protection,
        bulk,
        conflicts,
        export,
        people,
        activity,
        access_log,
        assessment,
        meetings,
        priorities,
        alerts,
        accounts,
    )
)
