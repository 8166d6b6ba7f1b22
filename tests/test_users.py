"""Optional users (POLICYQA_USERS): the users file, the CLI that writes it, and signing in to the app (AppTest)."""

import stat
from pathlib import Path

import pytest
from helpers import run
from streamlit.testing.v1 import AppTest

from basics.errors import ErrorCode, PolicyQAError
from policyqa.users import check_password, load_users, save_user

APP = str(Path(__file__).resolve().parents[1] / "app.py")
FAST = 4  # bcrypt cost for test users: the check's cost follows the stored hash, so tests stay quick


def test_users_file_round_trip_and_password_checks(tmp_path):
    path = tmp_path / "users.txt"
    save_user(path, "tanaka", "admin", "正しいパスワード", rounds=FAST)
    save_user(path, "suzuki", "user", "pw-suzuki", rounds=FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users = load_users(path)
    assert {n: u.role for n, u in users.items()} == {"tanaka": "admin", "suzuki": "user"}
    assert "正しいパスワード" not in path.read_text(encoding="utf-8")  # only hashes are stored
    assert check_password(users, "tanaka", "正しいパスワード").is_admin
    assert check_password(users, "tanaka", "pw-suzuki") is None
    assert check_password(users, "nobody", "pw-suzuki") is None  # checked against a dummy hash, same answer
    assert check_password(users, "suzuki", "x" * 100) is None  # longer than bcrypt reads: never a match
    save_user(path, "suzuki", "admin", "new-pw", rounds=FAST)  # a new password and role for an existing user
    users = load_users(path)
    assert len(users) == 2 and check_password(users, "suzuki", "new-pw").is_admin
    for bad in [("ta naka", "user", "pw"), ("tanaka", "root", "pw"), ("tanaka", "user", ""), ("t", "user", "あ" * 25)]:
        with pytest.raises(PolicyQAError) as err:
            save_user(path, *bad, rounds=FAST)
        assert err.value.code == ErrorCode.BAD_INPUT and err.value.ja and err.value.en
    assert len(load_users(path)) == 2  # a refused user left the file as it was
    path.write_text(path.read_text() + "broken line\n", encoding="utf-8")
    with pytest.raises(PolicyQAError, match="line 3"):
        load_users(path)


def test_users_cli_adds_and_lists(tmp_path):
    path = tmp_path / "users.txt"
    out = run(tmp_path, "users", "add", "tanaka", "--admin", "--password", "pw-1", POLICYQA_USERS=str(path))
    assert out.returncode == 0, out.stderr
    assert check_password(load_users(path), "tanaka", "pw-1").is_admin
    assert run(tmp_path, "users", "list", POLICYQA_USERS=str(path)).stdout == "tanaka\tadmin\n"
    assert run(tmp_path, "users", "list").returncode == 2  # no POLICYQA_USERS: says what to set


@pytest.fixture
def users_app(tmp_path, monkeypatch):
    from policyqa import guard
    from policyqa.service import Service, Upload
    from policyqa.settings import Settings
    from policyqa.testing.pdfgen import sample_guideline

    path = tmp_path / "users.txt"
    save_user(path, "kanri", "admin", "admin-pw", rounds=FAST)
    save_user(path, "suzuki", "user", "user-pw", rounds=FAST)
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_EMBED_MODEL", "policyqa-hash")
    monkeypatch.setenv("POLICYQA_USERS", str(path))
    monkeypatch.setenv("POLICYQA_ADMIN_PASSWORD", "not-needed-by-admins")
    monkeypatch.delenv("POLICYQA_READ_ONLY", raising=False)
    assert [r.status for r in Service(Settings.from_env()).ingest([Upload("guide.pdf", data=sample_guideline())])] == [
        "added"
    ]
    now = [1000.0]
    guard.SIGN_INS.clear()
    monkeypatch.setattr(guard.SIGN_INS, "_clock", lambda: now[0])
    cookie = ["browser-one-0123456789abcdef"]
    monkeypatch.setattr(guard, "browser_cookie", lambda: cookie[0])
    yield now, cookie
    guard.SIGN_INS.clear()


def _run(at):
    at.run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    return at


def sign_in(name, password, at=None):
    at = at or _run(AppTest.from_file(APP, default_timeout=60))
    [name_box, password_box] = at.text_input
    name_box.input(name)
    password_box.input(password)
    [button] = [b for b in at.button if b.label == "サインイン"]
    button.click()
    return _run(at)


def test_sign_in_roles_per_user_conversations_and_waits(users_app):
    now, cookie = users_app
    at = _run(AppTest.from_file(APP, default_timeout=60))
    assert not at.chat_input and any(b.label == "サインイン" for b in at.button)  # nothing before signing in

    at = sign_in("suzuki", "wrong", at)
    assert any("利用者名またはパスワードが違います" in e.value for e in at.error)
    at = sign_in("suzuki", "user-pw", at)  # right, but within the wait after a failure: refused unchecked
    assert any("あと 1 秒待って" in w.value for w in at.warning) and not at.chat_input
    at = sign_in("nobody", "user-pw", at)  # an unknown name: the same message as a wrong password
    now[0] += 60
    at = sign_in("nobody", "user-pw", at)
    assert any("利用者名またはパスワードが違います" in e.value for e in at.error)
    now[0] += 60
    at = sign_in("suzuki", "user-pw", at)
    assert at.chat_input
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/feedback.py")  # not for the user role
    at.chat_input[0].set_value("審査結果は何日以内に通知されますか？")
    _run(at)
    conversation = at.query_params["c"]

    cookie[0] = "another-browser-fedcba9876543210"  # the same user on another browser sees it
    at = sign_in("suzuki", "user-pw")
    assert [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-")][0].startswith("審査結果")
    admin = sign_in("kanri", "admin-pw")  # another user on that browser does not
    assert not [b for b in admin.sidebar.button if b.key and b.key.startswith("conv-")]
    admin.query_params["c"] = conversation
    _run(admin)
    assert any("この会話は見つかりません" in w.value for w in admin.warning)
    admin.switch_page("views/feedback.py")  # the admin role needs no admin password
    _run(admin)
    assert any(m.label.startswith("低評価") for m in admin.metric)
    [out] = [b for b in admin.sidebar.button if b.label == "サインアウト"]
    out.click()
    _run(admin)
    assert any(b.label == "サインイン" for b in admin.button) and not admin.metric


def test_without_a_users_file_nobody_signs_in(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_EMBED_MODEL", "policyqa-hash")
    for key in ("POLICYQA_USERS", "POLICYQA_READ_ONLY", "POLICYQA_ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    at = _run(AppTest.from_file(APP, default_timeout=60))
    assert not any(b.label == "サインイン" for b in at.button) and at.chat_input is not None
    assert not any(b.label == "サインアウト" for b in at.sidebar.button)
