"""The library page's password: a growing wait after each failed attempt, and a log line per failure.

Failures are counted per browser session and per client address (when Streamlit knows it: it reports none
for connections from this machine itself), so opening a new session from the same address does not reset
the wait. The wait doubles from 1 s up to 60 s; while it runs an attempt is refused without comparing the
password. Counts live in this process and are forgotten an hour after the last failure or at a success.
The log line names the attempt, the client and the session, never what was typed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

LOG = logging.getLogger("policyqa.admin")
FIRST_WAIT_S = 1.0
MAX_WAIT_S = 60.0
FORGET_AFTER_S = 3600.0


def wait_after(failures: int) -> float:
    """Seconds before the next attempt after `failures` failures in a row: 0, 1, 2, 4 … 60."""
    return 0.0 if failures <= 0 else min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (failures - 1))


class LoginThrottle:
    """Failed attempts per key ("session:…", "client:…"); thread-safe (sessions run in threads of one process)."""

    def __init__(self, clock: Callable[[], float] | None = None):
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # key → (failures in a row, time of the last one)

    def _now(self) -> float:
        return (self._clock or time.monotonic)()

    def wait_s(self, keys: Sequence[str]) -> float:
        """Seconds left before these keys may try again (the longest of their waits)."""
        now = self._now()
        with self._lock:
            waits = [last + wait_after(n) - now for n, last in (self._failures.get(k, (0, now)) for k in keys)]
        return max([0.0, *waits])

    def failed(self, keys: Sequence[str], who: str = "") -> float:
        """Count a failure for every key, log it, and return the wait before the next attempt."""
        now = self._now()
        with self._lock:
            self._forget(now)
            counts = []
            for key in keys:
                n = self._failures.get(key, (0, now))[0] + 1
                self._failures[key] = (n, now)
                counts.append(n)
        failures = max(counts, default=1)
        wait = wait_after(failures)
        LOG.warning("library password: failed attempt %d in a row (%s); next attempt in %.0f s", failures, who, wait)
        return wait

    def succeeded(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()

    def _forget(self, now: float) -> None:
        for key in [k for k, (_, last) in self._failures.items() if now - last > FORGET_AFTER_S]:
            del self._failures[key]


ADMIN_LOGINS = LoginThrottle()  # one per app process, shared by its sessions


def client_address() -> str | None:
    """The client's address as Streamlit reports it (None for this machine itself, or outside a session)."""
    import streamlit as st

    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 — no session context (bare mode, tests)
        return None


def attempt_keys(session_token: str, address: str | None) -> list[str]:
    """The keys one attempt counts against: its session, and its client address when known."""
    return [f"session:{session_token}"] + ([f"client:{address}"] if address else [])
