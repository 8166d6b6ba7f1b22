"""The document library page: list, upload (with progress and a result per file), remove with confirmation."""

from __future__ import annotations

import hmac

import streamlit as st

from policyqa.errors import PolicyQAError
from policyqa.present import escape_md, skipped_ja
from policyqa.settings import Settings


def _admin_ok(settings: Settings) -> bool:
    if not settings.admin_password or st.session_state.get("admin_ok"):
        return True
    with st.form("admin"):
        given = st.text_input("管理者パスワード", type="password")
        if st.form_submit_button("ログイン"):
            if hmac.compare_digest(given.encode(), settings.admin_password.encode()):
                st.session_state["admin_ok"] = True
                st.rerun()
            st.error("パスワードが違います")
    return False


def library_page() -> None:
    rt, settings = st.session_state["rt"], st.session_state["settings"]
    st.title("資料の管理")
    if not _admin_ok(settings):
        st.stop()
    records = rt.store.documents()
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
    upload_section(rt)
    if records:
        remove_section(rt, records)


def upload_section(rt) -> None:
    st.subheader("資料を取り込む")
    nonce = st.session_state.setdefault("upload_nonce", 0)
    files = st.file_uploader(
        "PDF・テキスト・Markdown（同じファイル名の新しい版は古い版を置き換えます）",
        type=["pdf", "txt", "md"],
        accept_multiple_files=True,
        key=f"upload-{nonce}",
    )
    if not files or not st.button("取り込む", type="primary"):
        return
    bar = st.progress(0.0, text="取り込み中…")
    try:
        with rt.library.writing(wait_s=30):
            for i, f in enumerate(files):
                data = f.getvalue()

                def progress(done, total, i=i, name=f.name):
                    bar.progress(min(1.0, (i + done / max(total, 1)) / len(files)), text=f"{name}: {done}/{total}")

                show_result(rt.library.ingest_bytes(f.name, data, progress=progress))
    except PolicyQAError as err:
        st.error(err.ja)
    bar.progress(1.0, text="完了")
    st.session_state["upload_nonce"] = nonce + 1
    st.button("一覧を更新")


def show_result(result) -> None:
    name = escape_md(result.source)
    if result.status == "failed":
        st.error(f"{name}: 取り込めませんでした — {escape_md(result.ja)}")
    elif result.status == "unchanged":
        st.info(f"{name}: {escape_md(result.ja)}")
    else:
        verb = "新しい版に置き換えました" if result.status == "replaced" else "取り込みました"
        note = f"（除外したページ: {skipped_ja(result.skipped)}）" if result.skipped else ""
        st.success(f"{name}: {verb}（{result.pages}ページ、{result.chunks}チャンク）{note}")


def remove_section(rt, records) -> None:
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
            with rt.library.writing(wait_s=30):
                rt.library.remove(pending)
            st.session_state.pop("confirm_remove")
            st.rerun()
        if no.button("やめる"):
            st.session_state.pop("confirm_remove")
            st.rerun()


library_page()
