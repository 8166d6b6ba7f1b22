"""policyqa in the browser: ask questions with cited answers, and manage the document library.

A thin edge: settings from POLICYQA_* variables, the rooms built once per process (st.cache_resource),
errors turned into Japanese messages. All document text shown here is escaped (see policyqa.present).
"""

from __future__ import annotations

import streamlit as st

from policyqa.errors import PolicyQAError
from policyqa.settings import Settings

st.set_page_config(page_title="カーボン・オフセット資料QA", page_icon="📄", layout="wide")


@st.cache_resource(show_spinner="モデルと資料を読み込んでいます…")
def get_runtime(settings: Settings):
    from policyqa.runtime import open_runtime

    return open_runtime(settings)


def _fail(err: PolicyQAError) -> None:
    st.error(err.ja)
    st.caption(err.en)
    st.stop()


# --- main ----------------------------------------------------------------------------------------
def main() -> None:
    settings = Settings.from_env()
    try:
        st.session_state["rt"] = get_runtime(settings)
    except PolicyQAError as err:
        _fail(err)
    st.session_state["settings"] = settings
    pages = [st.Page("views/chat.py", title="質問", icon="💬", default=True)]
    if not settings.read_only:
        pages.append(st.Page("views/library.py", title="資料の管理", icon="📚"))
    st.navigation(pages).run()


main()
