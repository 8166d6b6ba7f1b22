"""policyqa in the browser: ask questions with cited answers, and manage the document library.

A thin edge: settings from POLICYQA_* variables, the service built once per process (st.cache_resource),
errors turned into Japanese messages. All document text shown here is escaped (see policyqa.present).
"""

from __future__ import annotations

import streamlit as st

from basics.errors import PolicyQAError
from policyqa.guard import signed_in
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


def apply_upload_limit(settings: Settings) -> None:
    """Make Streamlit's own upload endpoint refuse what the app would refuse: POLICYQA_UPLOAD_LIMIT_MB, and 0 MB in
    read-only mode. The endpoint (/_stcore/upload_file/<session>/<file>) serves every session, with or without
    an upload widget on its page, and keeps what it receives in memory until the session ends; Streamlit has no
    switch to turn it off. `server.maxUploadSize` is read on each request, so setting it here takes effect
    at once; `make run` also passes it at start (--server.maxUploadSize), before any session exists."""
    from streamlit import config

    limit = 0 if settings.read_only else settings.upload_limit_mb
    if config.get_option("server.maxUploadSize") != limit:
        config.set_option("server.maxUploadSize", limit, "policyqa (POLICYQA_UPLOAD_LIMIT_MB / POLICYQA_READ_ONLY)")


# --- main ----------------------------------------------------------------------------------------
def main() -> None:
    settings = Settings.from_env()
    apply_upload_limit(settings)
    try:
        st.session_state["service"] = get_service(settings)
    except PolicyQAError as err:
        _fail(err)
    st.session_state["settings"] = settings
    user = None
    if settings.users_file:
        try:
            user = signed_in(settings)
        except PolicyQAError as err:  # the users file cannot be read or is malformed
            _fail(err)
        if user is None:
            st.stop()
        st.sidebar.caption(f"{user.name}（{'管理者' if user.is_admin else '利用者'}）")
        if st.sidebar.button("サインアウト"):
            st.session_state.clear()
            st.rerun()
    # Material icons ship with Streamlit's frontend: emoji showed as empty boxes without an emoji font.
    pages = [st.Page("views/chat.py", title="質問", icon=":material/chat:", default=True)]
    if not settings.read_only and (user is None or user.is_admin):
        pages.append(st.Page("views/library.py", title="資料の管理", icon=":material/library_books:"))
        pages.append(st.Page("views/feedback.py", title="フィードバック", icon=":material/feedback:"))
    st.navigation(pages).run()


main()
