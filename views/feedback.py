"""The feedback page, for whoever keeps the documents (behind the admin password): counts, the 👍 / 👎 list filtered
by rating, reason, cited document and date, CSV export, and marking a 👎 with the passage that answers it, which
makes it an evaluation question (`policyqa eval --from-feedback`)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from basics.errors import PolicyQAError
from policyqa.conversations import REASONS
from policyqa.guard import admin_ok
from policyqa.present import cited_places, escape_md, feedback_csv

# Words, not 👍 / 👎: without an emoji font (common on office machines) those showed as empty boxes here.
RATING_LABELS = {"up": "高評価", "down": "低評価"}
SHOWN = 500  # entries drawn on the page (newest first): the page stays quick however many there are


def feedback_page() -> None:
    service, settings = st.session_state["service"], st.session_state["settings"]
    st.title("フィードバック")
    if not admin_ok(settings):
        st.stop()
    try:
        kept = service.conversations
    except PolicyQAError as err:
        st.error(err.ja)
        st.caption(err.en)
        st.stop()
    show_counts(kept.counts())
    chosen = filters(kept)
    entries = kept.feedback(**chosen, limit=SHOWN)
    if not entries:
        st.info("該当するフィードバックはありません。")
        return
    if len(entries) == SHOWN:
        st.caption(f"新しい {SHOWN} 件を表示しています（CSV にはすべて含まれます）")
    st.dataframe([row(f) for f in entries], hide_index=True, width="stretch")
    st.download_button(
        "CSVでダウンロード",
        lambda: "\ufeff" + feedback_csv(kept.feedback(**chosen)),  # the BOM makes Excel read it as UTF-8
        file_name="policyqa-feedback.csv",
        mime="text/csv",
    )
    mark_section(kept, [f for f in entries if f.rating == "down"])


def show_counts(counts: dict[str, int]) -> None:
    up, down, marked = st.columns(3)
    up.metric("高評価（役に立った）", counts["up"])
    down.metric("低評価（誤り・不足）", counts["down"])
    marked.metric("評価用の質問にしたもの", counts["marked"])
    st.caption("低評価の理由: " + "、".join(f"{label} {counts[code]}" for code, label in REASONS.items()))


def filters(kept) -> dict:
    """The filter widgets, as keyword arguments of Conversations.feedback."""
    rating_col, reason_col, doc_col, since_col = st.columns(4)
    rating = rating_col.selectbox(
        "評価", [None, "down", "up"], format_func=lambda r: RATING_LABELS.get(r, "すべて"), key="fb-rating"
    )
    reason = reason_col.selectbox(
        "理由", [None, *REASONS], format_func=lambda r: REASONS.get(r, "すべて"), key="fb-reason"
    )
    cited = kept.cited_documents()
    document = doc_col.selectbox("引用された資料", [None, *cited], format_func=lambda d: d or "すべて", key="fb-doc")
    since = since_col.date_input("この日以降", value=None, key="fb-since")
    return {
        "rating": rating,
        "reason": reason,
        "document": document,
        "since": since.isoformat() if isinstance(since, dt.date) else None,
    }


def row(f) -> dict:
    return {
        "番号": f.id,
        "日時(UTC)": f.created_at.replace("T", " ").rstrip("Z"),
        "評価": RATING_LABELS[f.rating],
        "理由": "、".join(REASONS[r] for r in f.reasons),
        "ご意見": f.comment,
        "質問": f.question,
        "検索語": f.searched,
        "回答": f.answer,
        "引用": cited_places(f.citations),
        "評価用": "済" if f.marked else "",
    }


def mark_section(kept, downs) -> None:
    """Give a 👎 the passage that answers it (or say the documents do not answer it): an evaluation question."""
    if not downs:
        return
    st.subheader("低評価を評価用の質問にする")
    by_id = {f.id: f for f in downs}
    chosen = st.selectbox(
        "フィードバック", list(by_id), format_func=lambda i: f"{i}: {by_id[i].question[:60]}", key="fb-mark-id"
    )
    entry = by_id[chosen]
    st.markdown(f"**質問**: {escape_md(entry.question)}")
    st.markdown(f"**回答**: {escape_md(entry.answer)}")
    with st.form(f"mark-{chosen}"):
        evidence = st.text_area(
            "正しい根拠（資料の本文をそのまま。複数は改行で区切る）", value="\n".join(entry.evidence)
        )
        keys = st.text_input("回答に含まれるべき語（読点・カンマ区切り、任意）", value="、".join(entry.answer_keys))
        unanswerable = st.checkbox("資料に答えはない（回答しないのが正しい）", value=entry.answerable is False)
        if st.form_submit_button("評価用の質問にする"):
            try:
                words = keys.replace(",", "、").split("、")
                kept.mark(chosen, evidence.splitlines(), words, answerable=not unanswerable)
                st.success(f"{chosen} を評価用の質問にしました（policyqa eval --from-feedback）")
            except PolicyQAError as err:
                st.error(err.ja)


feedback_page()
