"""The document library page: list, upload (with progress and a result per file), remove with confirmation."""

from __future__ import annotations

import hmac
import math
import secrets

import streamlit as st

from basics.errors import PolicyQAError
from policyqa.guard import ADMIN_LOGINS, attempt_keys, client_address
from policyqa.present import describe_result, escape_md, skipped_ja
from policyqa.service import Upload
from policyqa.settings import Settings


def _admin_ok(settings: Settings) -> bool:
    """The password form; after a failed attempt the next one waits (1 s, doubling to 60 s) for this session and
    this client address alike (policyqa.guard), and each failure is logged without what was typed."""
    if not settings.admin_password or st.session_state.get("admin_ok"):
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


def library_page() -> None:
    service, settings = st.session_state["service"], st.session_state["settings"]
    st.title("資料の管理")
    if not _admin_ok(settings):
        st.stop()
    records = service.documents()
    if records:
        st.dataframe(
            [
                {
                    "タイトル": r.title,
                    "ファイル": r.source,
                    "版": r.version,
                    "ページ数": r.page_count,
                    "チャンク数": r.chunk_count,
                    "除外ページ": skipped_ja(r.skipped),
                    "取込日時": r.ingested_at,
                }
                for r in records
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.info("まだ資料がありません。")
    upload_section(service, settings.upload_limit_mb)
    if records:
        remove_section(service, records)


def upload_section(service, limit_mb: int) -> None:
    st.subheader("資料を取り込む")
    nonce = st.session_state.setdefault("upload_nonce", 0)
    files = st.file_uploader(
        "PDF・テキスト・Markdown（同じファイル名の新しい版は古い版を置き換えます）",
        type=["pdf", "txt", "md"],
        accept_multiple_files=True,
        max_upload_size=limit_mb,  # the browser refuses larger files before sending them (POLICYQA_UPLOAD_LIMIT_MB)
        key=f"upload-{nonce}",
    )
    if not files or not st.button("取り込む", type="primary"):
        return
    bar = st.progress(0.0, text="取り込み中…")
    index = {f.name: i for i, f in enumerate(files)}

    def progress(name: str, done: int, total: int) -> None:
        share = (index.get(name, 0) + done / max(total, 1)) / len(files)
        bar.progress(min(1.0, share), text=f"{name}: {done}/{total}")

    try:
        for result in service.ingest([Upload(f.name, data=f.getvalue()) for f in files], progress=progress, wait_s=30):
            show_result(result)
    except PolicyQAError as err:
        st.error(err.ja)
    bar.progress(1.0, text="完了")
    st.session_state["upload_nonce"] = nonce + 1
    st.button("一覧を更新")


def show_result(result) -> None:
    show = {"failed": st.error, "unchanged": st.info}.get(result.status, st.success)
    show(escape_md(describe_result(result, "ja")))


def remove_section(service, records) -> None:
    st.subheader("資料を削除する")
    by_source = {r.source: r for r in records}
    source = st.selectbox("削除する資料", options=list(by_source), format_func=lambda s: by_source[s].title)
    if st.button("削除"):
        st.session_state["confirm_remove"] = source
    pending = st.session_state.get("confirm_remove")
    if pending in by_source:
        st.warning(f"「{escape_md(by_source[pending].title)}」を削除します。よろしいですか？")
        yes, no = st.columns(2)
        if yes.button("削除する", type="primary"):
            service.remove(pending, wait_s=30)
            st.session_state.pop("confirm_remove")
            st.rerun()
        if no.button("やめる"):
            st.session_state.pop("confirm_remove")
            st.rerun()


library_page()
