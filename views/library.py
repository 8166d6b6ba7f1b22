"""The document library page: list, upload (with progress and a result per file), remove with confirmation."""

from __future__ import annotations

import streamlit as st

from basics.errors import PolicyQAError
from policyqa.guard import admin_ok
from policyqa.present import describe_result, escape_md, skipped_ja
from policyqa.service import Upload


def library_page() -> None:
    service, settings = st.session_state["service"], st.session_state["settings"]
    st.title("資料の管理")
    if not admin_ok(settings):
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
