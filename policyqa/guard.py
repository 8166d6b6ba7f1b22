"""Who is asking: the admin password (library and feedback pages) and the browser a conversation belongs to.

The admin password: a growing wait after each failed attempt, and a log line per failure.

Failures are counted per browser session and per client address (when Streamlit knows it: it reports none
for connections from this machine itself), so opening a new session from the same address does not reset
the wait. The wait doubles from 1 s up to 60 s; while it runs an attempt is refused without comparing the
password. Counts live in this process and are forgotten an hour after the last failure or at a success.
The log line names the attempt, the client and the session, never what was typed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
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

    def __init__(self, clock: Callable[[], float] | None = None, what: str = "library password"):
        self._clock = clock
        self._what = what
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
        LOG.warning("%s: failed attempt %d in a row (%s); next attempt in %.0f s", self._what, failures, who, wait)
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


def admin_ok(settings) -> bool:
    """The admin password form (library and feedback pages; one login serves both). After a failed attempt the
    next one waits (1 s, doubling to 60 s) for this session and this client address alike, and each failure is
    logged without what was typed. True when no password is configured, this session has logged in, or its
    signed-in user has the admin role (POLICYQA_USERS)."""
    import streamlit as st

    user = st.session_state.get("user")
    if not settings.admin_password or st.session_state.get("admin_ok") or (user and user.is_admin):
        return True
    session = st.session_state.setdefault("admin_session", secrets.token_hex(8))
    address = client_address()
    keys = attempt_keys(session, address)
    with st.form("admin"):
        given = st.text_input("管理者パスワード", type="password")
        if st.form_submit_button("ログイン"):
            wait = ADMIN_LOGINS.wait_s(keys)
            if wait > 0:
                st.warning(f"パスワードの誤りが続いたため、あと {math.ceil(wait)} 秒待ってからお試しください")
            elif hmac.compare_digest(given.encode(), settings.admin_password.encode()):
                ADMIN_LOGINS.succeeded(keys)
                st.session_state["admin_ok"] = True
                st.rerun()
            else:
                wait = ADMIN_LOGINS.failed(keys, who=f"client {address or 'this machine'}, session {session}")
                st.error(f"パスワードが違います（次は {math.ceil(wait)} 秒後から試せます）")
    return False


# --- the browser a conversation belongs to ---------------------------------------------------------------
# Streamlit 1.67 reads cookies (st.context.cookies: those sent when the page opened its connection) but has no
# API to set one, and its session ends with every reload. So the app gives a browser a random id (128 bits) on
# its first visit and sets it as a cookie from the page itself (st.html running a one-line script); every later
# page load sends it back. Conversations are stored under a SHA-256 of the id, not the id itself. A `?c=<id>`
# link opened in another browser (or after its cookies were cleared) finds nothing. The id lives only in this
# browser and this machine's data folder.
BROWSER_COOKIE = "policyqa_browser"
COOKIE_MAX_AGE_S = 400 * 24 * 3600  # the longest lifetime browsers keep a cookie (Chromium caps it at 400 days)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")


def browser_cookie() -> str | None:
    """The browser id this session's page load sent (None on a first visit, outside a session, or malformed)."""
    import streamlit as st

    try:
        value = st.context.cookies.get(BROWSER_COOKIE)
    except Exception:  # noqa: BLE001 — no session context (bare mode, tests)
        return None
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


def owner_of(token: str) -> str:
    return hashlib.sha256(f"policyqa-browser:{token}".encode()).hexdigest()


def conversation_owner() -> str:
    """Who this session's conversations belong to: its signed-in user (POLICYQA_USERS), else its browser."""
    import streamlit as st

    user = st.session_state.get("user")
    return f"user:{user.name}" if user else browser_owner()


def browser_owner() -> str:
    """Who this session's conversations belong to: the hash of the browser's id (from its cookie, else a new one
    kept in the session and written to the cookie by the page)."""
    import streamlit as st

    token = browser_cookie() or st.session_state.get("browser_token") or secrets.token_urlsafe(16)
    st.session_state["browser_token"] = token
    if browser_cookie() != token:
        cookie = f"{BROWSER_COOKIE}={token}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; SameSite=Strict"
        st.html(f"<script>document.cookie = {cookie!r};</script>", unsafe_allow_javascript=True, width="content")
    return owner_of(token)


# --- signing in (POLICYQA_USERS) ------------------------------------------------------------------------
SIGN_INS = LoginThrottle(what="sign-in")  # failures per session, client address and user name; one per process


def signed_in(settings):
    """The signed-in user of this session, after the sign-in form when there is none yet (None until then).
    A wrong name and a wrong password get the same message and the same growing wait."""
    import streamlit as st

    from policyqa.users import check_password, load_users

    if st.session_state.get("user"):
        return st.session_state["user"]
    session = st.session_state.setdefault("admin_session", secrets.token_hex(8))
    address = client_address()
    box = st.empty()  # emptied once signed in: the page goes on in the same run
    with box.form("sign-in"):
        st.subheader("サインイン")
        name = st.text_input("利用者名")
        password = st.text_input("パスワード", type="password")
        if not st.form_submit_button("サインイン"):
            return None
    keys = [*attempt_keys(session, address), f"user:{name}"]
    wait = SIGN_INS.wait_s(keys)
    if wait > 0:
        st.warning(f"サインインの失敗が続いたため、あと {math.ceil(wait)} 秒待ってからお試しください")
        return None
    user = check_password(load_users(settings.users_file), name, password)
    if user is None:
        wait = SIGN_INS.failed(keys, who=f"user name {name!r}, client {address or 'this machine'}, session {session}")
        st.error(f"利用者名またはパスワードが違います（次は {math.ceil(wait)} 秒後から試せます）")
        return None
    SIGN_INS.succeeded(keys)
    st.session_state["user"] = user
    box.empty()
    return user
