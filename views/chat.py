"""The chat page: questions in, short cited answers out, with a source card per citation; conversations kept
per browser (sidebar: new, open, rename, delete; `?c=<id>` reopens one) and 👍 / 👎 on every answer."""

from __future__ import annotations

from pathlib import PurePath

import streamlit as st

from basics.errors import PolicyQAError
from policyqa.conversations import REASONS
from policyqa.guard import conversation_owner
from policyqa.present import checking_draft, escape_md, export_markdown, highlighted_passage
from policyqa.service import NOT_FOUND


def card_label(n: int | None, title: str, page_label: str, source: str | None) -> str:
    """A source card's label: [n] 資料名・頁 and the file it comes from, so that a file calling itself by another
    document's title is seen for what it is. Escaped (titles and file names come from the documents)."""
    where = source if source is not None else "現在の資料にはありません"
    return escape_md(f"{f'[{n}] ' if n is not None else ''}{title}・{page_label}頁（{where}）")


def render_answer(answer, key: str, service, sources: dict[str, str] | None = None) -> None:
    """`sources`: doc_id → source file name of the active documents (read from the service when not given)."""
    if sources is None:
        sources = {r.doc_id: r.source for r in service.documents()}
    if answer.abstained:
        st.warning(NOT_FOUND)
        if answer.note:
            st.caption(escape_md(answer.note))
        if answer.related:
            st.caption("関連する可能性のある箇所")
            for j, hit in enumerate(answer.related):
                label = card_label(None, hit.title, hit.chunk.page_label, sources.get(hit.chunk.doc_id))
                with st.expander(label, key=f"related-{key}-{j}"):
                    st.html(highlighted_passage(hit.chunk.text, ()))
        return
    st.markdown(escape_md(answer.text))
    if answer.note:
        st.caption(escape_md(answer.note))
    for sentence in answer.unsupported:  # generated sentences no given passage supports
        st.warning(escape_md(f"根拠を確認できない文: {sentence}"))
    for c in answer.citations:
        source = sources.get(c.doc_id) or _kept_source(service, c.doc_id)  # an archived version's file too
        with st.expander(card_label(c.n, c.doc_title, c.page_label, source), key=f"card-{key}-{c.n}"):
            st.caption(escape_md(c.heading) if c.heading else "（見出しなし）")
            if c.ocr:
                st.caption("OCRで読み取った頁")
            st.html(highlighted_passage(c.passage, c.spans))
            render_source(c, f"{key}-{c.n}", service)


def _kept_source(service, doc_id: str) -> str | None:
    """The file name of a version that is not the active one (archived), None when the document is gone."""
    found = service.source_file(doc_id)
    return found[0].source if found else None


def render_source(citation, key: str, service) -> None:
    found = service.source_file(citation.doc_id)
    if found is None:
        return
    record, path = found
    if path.suffix.lower() == ".pdf" and st.toggle("この頁を表示（引用箇所に印）", key=f"show-{key}"):
        shown = _quote_page(service, citation, path.stat().st_mtime_ns)
        if shown is not None:
            st.image(shown.png, caption=QUOTE_FOUND if shown.marked else QUOTE_NOT_FOUND, width="stretch")
    data = _file_bytes(str(path), path.stat().st_mtime_ns)
    st.download_button("資料をダウンロード", data=data, file_name=PurePath(record.source).name, key=f"dl-{key}")


QUOTE_FOUND = "黄色の枠が引用箇所です。"
QUOTE_NOT_FOUND = (
    "この頁の文字情報から引用箇所を特定できませんでした（スキャンした頁など）。頁はそのまま表示しています。"
)


@st.cache_data(max_entries=16, show_spinner=False)
def _quote_page(_service, citation, mtime_ns: int):
    """The cited page drawn once per citation and file version, not on every rerun (≈ 40 ms a page)."""
    return _service.quote_page(citation)


@st.cache_data(max_entries=8, show_spinner=False)
def _file_bytes(path: str, mtime_ns: int) -> bytes:
    """A source file's bytes, read once rather than on every rerun of the page (mtime keys a new version)."""
    from pathlib import Path

    return Path(path).read_bytes()


def chat_page() -> None:
    service = st.session_state["service"]
    st.title("カーボン・オフセット資料QA")
    records = service.documents()
    if not records:
        st.info("資料がまだ登録されていません。「資料の管理」から PDF を取り込んでください。")
        st.stop()
    titles = {r.doc_id: f"{r.title}（{r.source}）" for r in records}
    chosen = st.sidebar.multiselect(
        "検索する資料", options=list(titles), format_func=titles.get, placeholder="すべての資料"
    )
    version = version_choice(service, records, chosen)
    with st.sidebar:  # the cookie's one-line script goes where it takes no room from the conversation
        owner = conversation_owner()
    kept = kept_conversations(service)
    if kept:
        follow_url(kept, owner, service)
    turns = st.session_state.setdefault("turns", [])
    if turns:
        st.sidebar.download_button(
            "会話をエクスポート（Markdown）", export_markdown(turns), file_name="policyqa-会話.md", mime="text/markdown"
        )
    if kept:
        conversation_sidebar(kept, owner)
    sources = {r.doc_id: r.source for r in records}
    for i, turn in enumerate(turns):
        render_turn(turn, str(i), service, sources)
        if kept and "n" in turn:
            feedback_widget(kept, service, turn, st.session_state["conversation"])
    question = st.chat_input("質問を入力してください（日本語・English）")
    if not question:
        return
    with st.chat_message("user"):
        st.markdown(escape_md(question))
    with st.chat_message("assistant"):
        try:
            streamed = st.empty()
            tokens: list[str] = []

            def show(token: str) -> None:
                # The generated answer as it streams is a greyed 確認中 draft, not an answer: what is kept and
                # shown as the answer (after the rerun below) is only what the checker accepted.
                tokens.append(token)
                streamed.caption(checking_draft("".join(tokens)))

            with st.status("資料を検索しています…", expanded=False) as status:
                history = [t["question"] for t in turns]
                last = turns[-1]["answer"].text if turns and not turns[-1]["answer"].abstained else ""
                answer = service.ask(
                    question, history, doc_ids=chosen or None, on_token=show, version=version, previous_answer=last
                )
                status.update(label=escape_md(f"検索語: {answer.searched}"), state="complete")
            streamed.empty()  # the draft goes before the checked answer is drawn
        except PolicyQAError as err:
            st.warning(err.ja)
            return
    turn = {"question": question, "answer": answer}
    if kept:
        keep_turn(kept, owner, service, turn)
    turns.append(turn)
    # Draw the new turn through the same path as the history, so its source cards keep their state
    # (open, page shown) when a later interaction reruns the page.
    st.rerun()


def version_choice(service, records, chosen: list[str]) -> int | None:
    """With one document chosen that has earlier versions: which version to answer from (None: the latest)."""
    if len(chosen) != 1:
        return None
    source = next(r.source for r in records if r.doc_id == chosen[0])
    versions = service.versions(source)
    if len(versions) < 2:
        return None
    labels = {v.number: v.label for v in versions}
    latest = versions[-1].number
    picked = st.sidebar.selectbox("版", list(reversed(labels)), format_func=labels.get, key=f"version-{source}")
    return None if picked == latest else picked


# --- kept conversations ------------------------------------------------------------------------------
def kept_conversations(service):
    """The conversation store, or None (with a note) when it cannot be opened: the chat then works as before,
    for this page only."""
    try:
        return service.conversations
    except PolicyQAError as err:
        st.sidebar.caption(f"会話は保存されません: {err.ja}")
        return None


def follow_url(kept, owner: str, service) -> None:
    """Keep the page and its `?c=<id>` in step: a URL naming another conversation opens it (if it is this
    browser's or user's); an open conversation is written into the URL, so reloading or bookmarking the page
    reopens it."""
    wanted, current = st.query_params.get("c"), st.session_state.get("conversation")
    if wanted and wanted != current:
        if kept.get(wanted, owner) is None:
            st.warning("この会話は見つかりません（削除されたか、別のブラウザーか別の利用者の会話です）")
            del st.query_params["c"]
            wanted = None
        open_conversation(kept, owner, service, wanted)
    elif current and not wanted:
        st.query_params["c"] = current


def start_new() -> None:
    """An empty page: no conversation until the first question (which starts one), no feedback given."""
    st.session_state.update(conversation=None, turns=[], given={}, explained=set())
    st.session_state.pop("confirm_delete", None)


def open_conversation(kept, owner: str, service, conversation_id: str | None) -> None:
    """Load a kept conversation into the page, with the feedback given on it (None: a new, empty one)."""
    start_new()
    if not conversation_id:
        return
    turns = kept.turns(conversation_id, owner)
    given = kept.ratings(conversation_id)
    st.session_state.update(
        conversation=conversation_id,
        turns=[{"question": t.question, "answer": service.answer_from_record(t.answer), "n": t.n} for t in turns],
        given={n: f.rating for n, f in given.items()},
        explained={n for n, f in given.items() if f.reasons or f.comment},
    )


def keep_turn(kept, owner: str, service, turn: dict) -> None:
    """Store a new turn (starting a conversation, titled by its question, on the first one)."""
    try:
        if not st.session_state.get("conversation"):
            conversation = kept.create(owner, turn["question"])
            st.session_state["conversation"] = conversation.id
            st.query_params["c"] = conversation.id
        turn["n"] = kept.add_turn(
            st.session_state["conversation"], owner, turn["question"], service.answer_record(turn["answer"])
        )
    except PolicyQAError as err:  # shown once; the turn still stays on the page
        st.session_state["keep_error"] = err.ja


def _go(conversation_id: str | None) -> None:
    """Open a conversation by its URL on the next run, or (None) start a new one now."""
    if conversation_id:
        st.query_params["c"] = conversation_id
    else:
        st.query_params.pop("c", None)
        start_new()
    st.rerun()


def conversation_sidebar(kept, owner: str) -> None:
    """New conversation, the list (first question or given name, and date; newest first), rename and delete."""
    bar = st.sidebar
    if error := st.session_state.pop("keep_error", None):
        bar.warning(f"会話の保存で問題がありました: {error}")
    current = st.session_state.get("conversation")
    if bar.button("新しい会話", icon=":material/add:", width="stretch"):
        _go(None)
    listed = kept.list(owner)
    if listed:
        bar.caption("これまでの会話")
    for c in listed:
        label = escape_md(f"{c.title} · {c.created_at[:10]}")
        kind = "primary" if c.id == current else "tertiary"
        if bar.button(label, key=f"conv-{c.id}", type=kind, width="stretch"):
            _go(c.id)
    if current:
        manage_conversation(kept, owner, current)


def manage_conversation(kept, owner: str, current: str) -> None:
    with st.sidebar.expander("この会話の名前の変更・削除", key=f"manage-{current}"):
        conversation = kept.get(current, owner)
        name = st.text_input("名前", value=conversation.title if conversation else "", key=f"name-{current}")
        if st.button("名前を変更", key=f"rename-{current}"):
            try:
                kept.rename(current, owner, name)
                st.rerun()
            except PolicyQAError as err:
                st.error(err.ja)
        if st.button("この会話を削除", key=f"delete-{current}"):
            st.session_state["confirm_delete"] = current
    if st.session_state.get("confirm_delete") == current:
        confirm_delete(kept, owner, current)


def confirm_delete(kept, owner: str, current: str) -> None:
    """Below the expander, not in it: a rerun that closes the expander must not hide the question."""
    bar = st.sidebar
    bar.warning("この会話を削除します。元に戻せません。よろしいですか？")
    yes, no = bar.columns(2)
    if yes.button("削除する", type="primary", key=f"delete-yes-{current}"):
        st.session_state.pop("confirm_delete")
        try:
            kept.delete(current, owner)
        except PolicyQAError as err:  # already deleted in another tab, or the file cannot be written
            st.session_state["keep_error"] = err.ja
        _go(None)
    if no.button("やめる", key=f"delete-no-{current}"):
        st.session_state.pop("confirm_delete")
        st.rerun()


# --- feedback -------------------------------------------------------------------------------------------
RATINGS = {1: "up", 0: "down"}


def feedback_widget(kept, service, turn: dict, conversation_id: str) -> None:
    """👍 / 👎 under an answer (kept at once, with the answer as it was); after 👎 a short form asks why."""
    n, given = turn["n"], st.session_state.setdefault("given", {})
    key = f"fb-{conversation_id}-{n}"
    default = {v: k for k, v in RATINGS.items()}.get(given.get(n))
    args = (kept, service, turn, conversation_id, key)
    rating = st.feedback("thumbs", key=key, default=default, on_change=_rated, args=args)
    if rating == 0 and n not in st.session_state.setdefault("explained", set()):
        reasons_form(kept, service, turn, conversation_id)


def _history(turn: dict) -> tuple[str, ...]:
    """The questions asked before this turn in its conversation (a follow-up is evaluated with them)."""
    earlier = st.session_state.get("turns", [])
    return tuple(t["question"] for t in earlier if t.get("n", -1) < turn["n"])


def _rated(kept, service, turn: dict, conversation_id: str, key: str) -> None:
    value, n = st.session_state.get(key), turn["n"]
    given = st.session_state.setdefault("given", {})
    try:
        if value is None:
            kept.withdraw_feedback(conversation_id, n)
            given.pop(n, None)
            return
        entry = service.feedback_for(
            turn["answer"], RATINGS[value], conversation_id=conversation_id, turn=n, history=_history(turn)
        )
        kept.give_feedback(entry)
    except PolicyQAError as err:  # a callback's error would replace the page: say it in the sidebar instead
        st.session_state["keep_error"] = err.ja
        return
    given[n] = RATINGS[value]
    st.session_state.setdefault("explained", set()).discard(n)


def reasons_form(kept, service, turn: dict, conversation_id: str) -> None:
    n = turn["n"]
    with st.form(f"why-{conversation_id}-{n}"):
        st.caption("どこが問題でしたか（資料を管理する担当者に届きます）")
        chosen = [
            code for code, label in REASONS.items() if st.checkbox(label, key=f"why-{conversation_id}-{n}-{code}")
        ]
        comment = st.text_area("ご意見（任意）", max_chars=2000, key=f"why-{conversation_id}-{n}-comment")
        if st.form_submit_button("送信"):
            entry = service.feedback_for(
                turn["answer"],
                "down",
                reasons=tuple(chosen),
                comment=comment,
                conversation_id=conversation_id,
                turn=n,
                history=_history(turn),
            )
            try:
                kept.give_feedback(entry)
            except PolicyQAError as err:
                st.error(err.ja)
                return
            st.session_state["explained"].add(n)
            st.rerun()


def render_turn(turn: dict, key: str, service, sources: dict[str, str] | None = None) -> None:
    with st.chat_message("user"):
        st.markdown(escape_md(turn["question"]))
    with st.chat_message("assistant"):
        st.caption(escape_md(f"検索語: {turn['answer'].searched}"))
        render_answer(turn["answer"], key, service, sources)


chat_page()
