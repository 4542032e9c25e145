"""What the sync core refuses, as domain errors; the API turns them into the error shape."""


class SyncError(Exception):
    """A push or pull the server cannot serve as asked."""


class ClockUnusableError(SyncError):
    """The phone's clock is so far out (a year or more) that its stamps cannot be corrected."""

    def __init__(self, days_out: int, server_time: str):
        super().__init__(
            f"The phone's clock is {days_out} days out. Set the date and time "
            f"(server time is {server_time}) and sync again."
        )
        self.server_time = server_time


class BadCursorError(SyncError):
    """A pull cursor the server never gave (e.g. one from before a restore)."""
