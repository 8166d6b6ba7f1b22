"""The document library page: list, upload (with progress and a result per file), remove with confirmation."""

from __future__ import annotations

import hmac
import math
import secrets

import streamlit as st

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
    """Upload and ingest. The ingest runs in the background (policyqa.service.IngestJob) so that the page stays
    responsive: its progress and a cancel button refresh every second until it ends, then its results stay."""
    st.subheader("資料を取り込む")
    job = st.session_state.get("ingest_job")
    if job is not None and job.running:
        ingest_progress()
        return
    if job is not None:
        show_job(job)
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
    st.session_state["ingest_job"] = service.start_ingest([Upload(f.name, data=f.getvalue()) for f in files])
    st.session_state["upload_nonce"] = nonce + 1
    st.rerun()


@st.fragment(run_every=1.0)
def ingest_progress() -> None:
    """The running ingest, refreshed every second on its own; the whole page reruns once it has ended."""
    job = st.session_state["ingest_job"]
    if not job.running:
        st.rerun()  # the document list and the results, outside this fragment
    name, done, total = job.progress or ("", 0, 0)
    text = f"{escape_md(name)}: {done}/{total}" if job.progress else "取り込み中…"
    st.progress(job.share, text=text)
    for result in job.results:
        show_result(result)
    if job.cancelling:
        st.warning("中止しています…（読み込み中の資料はすぐに、保存中の資料は次の区切りで止まり、保存されません）")
    elif st.button("取り込みを中止", key="cancel-ingest"):
        job.cancel()
        st.rerun(scope="fragment")


def show_job(job) -> None:
    """The last ingest's result per file, and which files are in the library now and which are not."""
    if job.error is not None:
        st.error(job.error.ja)
    for result in job.results:
        show_result(result)
    if any(r.code == "cancelled" for r in job.results):
        stored = "、".join(escape_md(r.source) for r in job.stored) or "なし"
        missing = "、".join(escape_md(r.source) for r in job.not_stored)
        st.warning(f"取り込みを中止しました。保存した資料: {stored} ／ 保存していない資料: {missing}")


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
