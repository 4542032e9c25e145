"""Hybrid logical clock stamps (twin of `pwa/js/hlc.js`, pinned by `tests/vectors/hlc.json`).

A stamp is `(millis, counter, node)`. The string form pads millis to 15 digits and the counter
to 5, so comparing two stamp strings gives the same answer as comparing the tuples; the server
stores and compares stamps as plain strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ClockDriftError, CounterOverflowError, DuplicateNodeError, HLCFormatError

MAX_MILLIS = 10**15 - 1  # 15 digits; below 2**53, so JavaScript numbers hold it exactly
MAX_COUNTER = 10**5 - 1  # 5 digits
SERVER_NODE = "server"

_NODE_RE = re.compile(r"[a-z0-9]{1,64}")
_STAMP_RE = re.compile(r"([0-9]{15})-([0-9]{5})-([a-z0-9]{1,64})")


def _check_int(name: str, value: object, high: int) -> None:
    # bool is an int subclass; a stamp with millis=True is a bug, not a clock.
    if type(value) is not int or not 0 <= value <= high:
        raise HLCFormatError(f"{name} must be an int in 0..{high}, got {value!r}")


@dataclass(frozen=True, order=True, slots=True)
class HLC:
    """An immutable stamp. Dataclass ordering compares (millis, counter, node): string order."""

    millis: int
    counter: int
    node: str

    def __post_init__(self) -> None:
        _check_int("millis", self.millis, MAX_MILLIS)
        _check_int("counter", self.counter, MAX_COUNTER)
        if not isinstance(self.node, str) or not _NODE_RE.fullmatch(self.node):
            raise HLCFormatError(f"node must be 1..64 characters of [a-z0-9], got {self.node!r}")

    def __str__(self) -> str:
        return f"{self.millis:015d}-{self.counter:05d}-{self.node}"

    @classmethod
    def parse(cls, text: object) -> HLC:
        """Parse the canonical string form; anything else (spaces, upper case...) fails."""
        if not isinstance(text, str):
            raise HLCFormatError(f"stamp must be a string, got {type(text).__name__}")
        # fullmatch with an explicit character class: `\d` would accept non-ASCII digits.
        match = _STAMP_RE.fullmatch(text)
        if match is None:
            raise HLCFormatError(f"not a stamp: {text!r}")
        return cls(int(match[1]), int(match[2]), match[3])

    def send(self, now_ms: int) -> HLC:
        """The stamp for a new local event.

        The wall clock wins when it has moved past the last stamp (counter back to 0). When it
        has not (same millisecond, or the wall clock stepped backwards) we keep the old millis and
        count up, so stamps from one node strictly increase whatever the wall clock does.
        """
        if now_ms > self.millis:
            return HLC(now_ms, 0, self.node)
        return HLC(self.millis, self._next_counter(self.counter), self.node)

    def receive(self, remote: HLC, now_ms: int, max_drift_ms: int) -> HLC:
        """Our clock after seeing `remote`: later than both our last stamp and `remote`.

        1. A remote with our node id means two devices share an id: their stamps could tie
           and the tie-break would be meaningless, so refuse.
        2. A remote too far ahead of our wall clock would drag our clock (and every stamp we
           make afterwards) into the future, so refuse rather than adopt it.
        3. millis becomes the latest of our last stamp, the remote and the wall clock. The
           counter continues from whichever stamp(s) hold that millis, so the result sorts after
           both; if only the wall clock holds it, the counter restarts at 0.
        """
        if remote.node == self.node:
            raise DuplicateNodeError(f"remote stamp {remote} has our node id")
        if remote.millis - now_ms > max_drift_ms:
            raise ClockDriftError(remote.millis, now_ms, max_drift_ms)
        millis = max(self.millis, remote.millis, now_ms)
        if millis == self.millis and millis == remote.millis:
            counter = self._next_counter(max(self.counter, remote.counter))
        elif millis == self.millis:
            counter = self._next_counter(self.counter)
        elif millis == remote.millis:
            counter = self._next_counter(remote.counter)
        else:
            counter = 0
        return HLC(millis, counter, self.node)

    @staticmethod
    def _next_counter(counter: int) -> int:
        if counter >= MAX_COUNTER:
            raise CounterOverflowError(f"counter would pass {MAX_COUNTER} within one millisecond")
        return counter + 1


def correct(stamp: HLC, skew_ms: int, now_ms: int) -> HLC:
    """The stamp the server merges with: shifted by the device's measured skew, capped at now.

    `skew_ms = device_now - server_now`, so subtracting it moves the device's millis onto the
    server's timeline; the cap stops a fast clock that the skew did not fully explain from
    winning every later conflict. Counter and node are kept, so stamps stay unique per device.
    """
    millis = min(stamp.millis - skew_ms, now_ms)
    return HLC(max(millis, 0), stamp.counter, stamp.node)
