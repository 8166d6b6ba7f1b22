"""The document library page: list, upload (with progress and a result per file), each document's versions and
what changed between two of them, remove (every version or one) with confirmation."""

from __future__ import annotations

import streamlit as st

from policyqa.guard import admin_ok
from policyqa.present import SECTION_KINDS_JA, describe_result, escape_md, escape_md_line, skipped_ja
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
        versions_section(service, records)
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
        "PDF・テキスト・Markdown（同じファイル名で内容が新しいものは新しい版になり、前の版は保管されます）",
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


def versions_section(service, records) -> None:
    """A document's version history, and what changed between two chosen versions (default: the last two)."""
    st.subheader("版の履歴と変更点")
    by_source = {r.source: r for r in records}
    source = st.selectbox("資料", options=list(by_source), format_func=lambda s: by_source[s].title, key="versions-doc")
    versions = service.versions(source)
    st.table([_history_row(v) for v in versions])
    if len(versions) < 2:
        st.caption("この資料の版は一つだけです。同じファイル名で新しい内容を取り込むと、新しい版になります。")
        return
    numbers = [v.number for v in versions]
    left, right = st.columns(2)
    old = left.selectbox("比較元の版", numbers, index=len(numbers) - 2, format_func=lambda n: f"第{n}版")
    new = right.selectbox("比較先の版", numbers, index=len(numbers) - 1, format_func=lambda n: f"第{n}版")
    if old == new:
        st.info("異なる二つの版を選んでください。")
        return
    show_diff(service.diff(source, old, new))


def _history_row(version) -> dict:
    """One row of the history; st.table renders Markdown, so the document's title is escaped."""
    r = version.record
    title = escape_md_line(r.title)
    return {"版": version.label, "取込日時": r.ingested_at, "ページ数": r.page_count, "タイトル": title}


def _pages(pages) -> str:
    return "、".join(str(p) for p in pages) or "なし"


def show_diff(diff) -> None:
    """Each section that differs, with its pages in both versions, and its removed and added sentences."""
    if not diff.sections:
        st.success(f"{diff.before.label}と{diff.after.label}の本文に違いはありません。")
        return
    st.caption(f"{diff.before.label} → {diff.after.label}：{len(diff.sections)}か所の節に変更があります")
    for s in diff.sections:
        with st.container(border=True):
            renamed = f"（旧: {escape_md_line(s.heading_from)}）" if s.heading_from not in ("", s.heading) else ""
            st.markdown(
                f"**{SECTION_KINDS_JA[s.kind]}**　{escape_md_line(s.heading)}{renamed}　"
                f"（{diff.before.label} {_pages(s.pages_from)}頁 → {diff.after.label} {_pages(s.pages_to)}頁）"
            )
            for mark, changes in ((":red[削除]", s.removed), (":green[追加]", s.added)):
                for c in changes:
                    where = f"{c.page_from or '-'}頁 → {c.page_to or '-'}頁"
                    st.markdown(f"{mark} {escape_md_line(c.text)}（{where}）")


def remove_section(service, records) -> None:
    st.subheader("資料を削除する")
    by_source = {r.source: r for r in records}
    source = st.selectbox("削除する資料", options=list(by_source), format_func=lambda s: by_source[s].title)
    numbers = [v.number for v in service.versions(source)]
    which = st.selectbox(
        "削除する版",
        [None, *numbers] if len(numbers) > 1 else [None],
        format_func=lambda n: "すべての版" if n is None else f"第{n}版のみ",
    )
    if st.button("削除"):
        st.session_state["confirm_remove"] = (source, which)
    pending, version = st.session_state.get("confirm_remove") or (None, None)
    if pending in by_source:
        what = "すべての版" if version is None else f"第{version}版"
        st.warning(f"「{escape_md(by_source[pending].title)}」の{what}を削除します。よろしいですか？")
        yes, no = st.columns(2)
        if yes.button("削除する", type="primary"):
            service.remove(pending, wait_s=30, version=version)
            st.session_state.pop("confirm_remove")
            st.rerun()
        if no.button("やめる"):
            st.session_state.pop("confirm_remove")
            st.rerun()


library_page()
