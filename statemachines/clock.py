"""A virtual clock for local executions: Retry intervals and Wait states take no real time, but
the execution history's timestamps move on by the time they would have taken.

Waits in concurrent Parallel branches or Map iterations are added one after the other, so the
history shows an upper bound for them rather than the overlap AWS would show.
"""

from __future__ import annotations

import datetime as dt
import threading
import time


class VirtualClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, float(seconds))
            self.waits.append(float(seconds))

    @property
    def skipped_seconds(self) -> float:
        return self._offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(tz=dt.timezone.utc) + dt.timedelta(seconds=self._offset)


class RealClock:
    """The same interface on real time, for runs that should really wait."""

    skipped_seconds = 0.0

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, float(seconds)))

    def now(self) -> dt.datetime:
        return dt.datetime.now(tz=dt.timezone.utc)
