"""The chat page: questions in, short cited answers out, with a source card per citation."""

from __future__ import annotations

from pathlib import PurePath

import streamlit as st

from basics.errors import PolicyQAError
from policyqa.present import checking_draft, escape_md, export_markdown, highlighted_passage, page_pdf
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
        with st.expander(card_label(c.n, c.doc_title, c.page_label, sources.get(c.doc_id)), key=f"card-{key}-{c.n}"):
            st.caption(escape_md(c.heading) if c.heading else "（見出しなし）")
            st.html(highlighted_passage(c.passage, c.spans))
            render_source(c, f"{key}-{c.n}", service)


def render_source(citation, key: str, service) -> None:
    found = service.source_file(citation.doc_id)
    if found is None:
        return
    record, path = found
    if path.suffix.lower() == ".pdf" and st.toggle("この頁を表示", key=f"show-{key}"):
        page = page_pdf(path, citation.page)
        if page:
            st.pdf(page, height=600)
    data = _file_bytes(str(path), path.stat().st_mtime_ns)
    st.download_button("資料をダウンロード", data=data, file_name=PurePath(record.source).name, key=f"dl-{key}")


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
    turns = st.session_state.setdefault("turns", [])
    if turns:
        st.sidebar.download_button(
            "会話をエクスポート（Markdown）", export_markdown(turns), file_name="policyqa-会話.md", mime="text/markdown"
        )
    sources = {r.doc_id: r.source for r in records}
    for i, turn in enumerate(turns):
        render_turn(turn, str(i), service, sources)
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
                answer = service.ask(question, history, doc_ids=chosen or None, on_token=show)
                status.update(label=escape_md(f"検索語: {answer.searched}"), state="complete")
            streamed.empty()  # the draft goes before the checked answer is drawn
        except PolicyQAError as err:
            st.warning(err.ja)
            return
    turns.append({"question": question, "answer": answer})
    # Draw the new turn through the same path as the history, so its source cards keep their state
    # (open, page shown) when a later interaction reruns the page.
    st.rerun()


def render_turn(turn: dict, key: str, service, sources: dict[str, str] | None = None) -> None:
    with st.chat_message("user"):
        st.markdown(escape_md(turn["question"]))
    with st.chat_message("assistant"):
        st.caption(escape_md(f"検索語: {turn['answer'].searched}"))
        render_answer(turn["answer"], key, service, sources)


chat_page()
