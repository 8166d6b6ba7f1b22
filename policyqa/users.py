"""Optional users (POLICYQA_USERS): a text file of names, roles and bcrypt password hashes, one user a line.

    tanaka:admin:$2b$12$…
    suzuki:user:$2b$12$…

Written by `policyqa users add NAME [--admin]`. With the file configured, people sign in; conversations are kept
per user (whatever browser they use) and only the admin role sees the library and feedback pages. Passwords are
hashed with bcrypt (PyCA's maintained library, already a dependency of chromadb; cost 12: about 0.3 s a check on
one core, 1 s on this 2-core machine under load), which compares in constant time; a name that does not exist
is checked against a dummy hash, so a wrong name takes as long as a wrong password and both get the same
message. Failed sign-ins wait longer each time (policyqa.guard.LoginThrottle). Does not manage sessions beyond
Streamlit's own: signing out or closing the page ends one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from basics.errors import ErrorCode, PolicyQAError

ROLES = ("admin", "user")
ROUNDS = 12
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (and bcrypt 5 refuses longer input rather than cut it)
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _bad(ja: str, en: str) -> PolicyQAError:
    return PolicyQAError(ja, en, code=ErrorCode.BAD_INPUT)


def load_users(path: Path) -> dict[str, User]:
    """The users of the file; a malformed line is an error naming its line (a half-read file would lock people
    out without saying why)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise PolicyQAError(
            f"利用者ファイルを読めません: {path}", f"cannot read the users file {path}: {err}", code=ErrorCode.NOT_FOUND
        ) from err
    users = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, role, password_hash = (line.strip().split(":", 2) + ["", ""])[:3]
        if not _NAME.fullmatch(name) or role not in ROLES or not password_hash.startswith("$2"):
            raise _bad(
                f"利用者ファイル {path} の {n} 行目の形式が違います", f"{path} line {n}: expected NAME:ROLE:HASH"
            )
        users[name] = User(name, role, password_hash)
    return users


def hash_password(password: str, rounds: int = ROUNDS) -> str:
    import bcrypt

    data = password.encode("utf-8")
    if not data:
        raise _bad("パスワードが空です", "the password is empty")
    if len(data) > MAX_PASSWORD_BYTES:
        raise _bad(
            f"パスワードが長すぎます（{MAX_PASSWORD_BYTES} バイトまで。日本語なら 24 文字まで）",
            f"the password is longer than {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)",
        )
    return bcrypt.hashpw(data, bcrypt.gensalt(rounds)).decode("ascii")


@cache
def _dummy_hash() -> bytes:
    import bcrypt

    return bcrypt.hashpw(b"policyqa-no-such-user", bcrypt.gensalt(ROUNDS))


def check_password(users: dict[str, User], name: str, password: str) -> User | None:
    """The user when the name exists and the password is theirs; None otherwise, in about the same time."""
    import bcrypt

    user = users.get(name)
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        data = b""  # never theirs (no such password could be set); still checked, so it takes as long
    stored = user.password_hash.encode("ascii") if user else _dummy_hash()
    ok = bcrypt.checkpw(data or b"-", stored) and bool(data)
    return user if ok and user else None


def save_user(path: Path, name: str, role: str, password: str, rounds: int = ROUNDS) -> User:
    """Add a user to the file, or give an existing one a new role and password (the file is replaced whole)."""
    if not _NAME.fullmatch(name):
        raise _bad("利用者名は英数字と . _ @ - の 64 文字までです", "a user name is 1-64 of A-Z a-z 0-9 . _ @ -")
    if role not in ROLES:
        raise _bad(f"役割は {ROLES} のどれかです", f"role must be one of {ROLES}")
    path = Path(path)
    users = load_users(path) if path.exists() else {}
    users[name] = User(name, role, hash_password(password, rounds))
    text = "".join(f"{u.name}:{u.role}:{u.password_hash}\n" for u in users.values())
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)  # hashes only, but nobody else needs to read them
    tmp.replace(path)
    return users[name]
