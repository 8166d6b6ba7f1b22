"""policyqa in the browser: ask questions with cited answers, and manage the document library.

A thin edge: settings from POLICYQA_* variables, the service built once per process (st.cache_resource),
errors turned into Japanese messages. All document text shown here is escaped (see policyqa.present).
"""

from __future__ import annotations

import streamlit as st

from basics.errors import PolicyQAError
from policyqa.settings import Settings

st.set_page_config(page_title="カーボン・オフセット資料QA", page_icon="📄", layout="wide")


@st.cache_resource(show_spinner="モデルと資料を読み込んでいます…")
def get_service(settings: Settings):
    from policyqa.service import Service

    service = Service(settings)
    service.searcher.refresh()  # load the model and the keyword index now, not on the first question
    return service


def _fail(err: PolicyQAError) -> None:
    st.error(err.ja)
    st.caption(err.en)
    st.stop()


# --- main ----------------------------------------------------------------------------------------
def main() -> None:
    settings = Settings.from_env()
    try:
        st.session_state["service"] = get_service(settings)
    except PolicyQAError as err:
        _fail(err)
    st.session_state["settings"] = settings
    # Material icons ship with Streamlit's frontend: emoji showed as empty boxes without an emoji font.
    pages = [st.Page("views/chat.py", title="質問", icon=":material/chat:", default=True)]
    if not settings.read_only:
        pages.append(st.Page("views/library.py", title="資料の管理", icon=":material/library_books:"))
    st.navigation(pages).run()


main()
