"""Which questions continue the conversation, and what to search for them.

A question is a follow-up only when it refers back (それ, その, 同, 当該, 翌年, it, that, what about…) or names
no subject of its own: its content words are only attributes that need one (対象, 期限, 副座長, 2011年度…).
「J-VERとは何ですか？」 names its subject and is answered on its own after anything; 「その時の副座長は？」 and
「対象は何か所ですか？」 continue the previous question, whose subject is searched with them. A year given
relatively (翌年, 前年度, 同年) is resolved against the previous question's year; a new year or ordinal
("What about 2011?", 「2回目は？」) replaces the previous one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from answer.question import ORDINAL

MAX_QUESTION_CHARS = 1000  # longer input is cut for search (a 512-token model reads ~850 Japanese chars)
MAX_DEPTH = 3  # a chain of follow-ups borrows its subject through at most this many earlier turns

_REFERS_BACK = re.compile(
    r"^(それ|その|これ|この|あれ|あの|そこ|そちら|こちら|同|当該|彼|彼女|前者|後者|では|じゃあ|ちなみに)"
    r"|(それ|これ|あれ|それら|これら)(は|の|が|を|に|で|と|も|って)|その(時|際|年|後|中|うち|他)|当時|同じ"
    r"|翌年|前年|同年|翌月|前月|次回|前回|次の|前の"
    r"|\b(it|its|that|this|they|them|their|those|these|he|she|his|her|same)\b|^\s*(and|what about|how about)\b",
    re.IGNORECASE,
)
_ASKING = re.compile(
    r"(とは|には|では|は|を|が|の)?\s*(いつ|何|なに|誰|だれ|どんな|どういう|どの|どこ|どう|どれ|なぜ|いくら|いくつ)[^、。]*$"
    r"|^\s*(who|what|when|where|which|how|why)\b.*?\b(is|was|were|are|did|does|do)\b",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[\u3005\u30a0-\u30ff\u3400-\u9fff]{2,}|[A-Za-z][A-Za-z0-9\-]+|\d+")
_NTH = re.compile(r"(\d+)\s*(?:回|番)目")  # 「2回目」 is 第2回
# Attributes of something else: a question made only of these names no subject of its own.
_ATTRIBUTES = {
    *"対象 期限 期間 金額 費用 予算 条件 要件 手続 手続き 内容 理由 目的 結果 場所 会場 日程 日時".split(),
    *"時期 担当 担当者 委員 座長 副座長 委員長 副委員長 会長 副会長 事務局 事務局長 構成 役職 所属".split(),
    *"名称 種類 方法 件数 人数 回数".split(),
    # someone's successor or predecessor: 「後任は誰？」 after a question about a member asks of that member
    *"後任 前任 後継 後継者 任期".split(),
    # what is paid: 「代金はどうやって払うんですか？」 after a question about buying a credit
    *"代金 料金 価格 支払 支払い".split(),
    # a point in time is said of something: 「2009年4月の時点では？」 asks the previous question of another date
    *"時点 現在 段階 以降 以前 当初 前後".split(),
    *"開始 終了 締切 根拠 概要 詳細 開催 最初 最後 全体 合計 年度 上限 下限 割合 単価 連絡先 問合せ 問い合わせ".split(),
    *"members member chair vice deadline date dates amount cost budget period purpose reason place venue".split(),
    *"who what when where which why how many much year years is was were are did does do the a an of in on".split(),
    *"for to about and or with by at from its their there then also".split(),
}
_YEAR = re.compile(r"(\d{4})\s*(年度|年)?|(平成|令和)\s*(\d{1,2}|元)\s*(年度|年)")
_RELATIVE_YEAR = {"翌年度": 1, "前年度": -1, "同年度": 0, "翌年": 1, "前年": -1, "同年": 0}
# "What about the following year?": the English relative years, as the year they mean
_RELATIVE_YEAR_EN = re.compile(
    r"\b(?:the\s+)?(following|next|previous|preceding|same)\s+(fiscal\s+)?year\b|\bthe\s+year\s+(before|after)\b", re.I
)
_EN_DELTA = {"following": 1, "next": 1, "after": 1, "previous": -1, "preceding": -1, "before": -1, "same": 0}
_ERAS = {"平成": 1988, "令和": 2018}


def key_terms(question: str) -> str:
    """The subject of a question without its question words: "XXはいつですか？" → "XX"."""
    text = re.sub(r"[?？!！。\s]+$", "", question.strip())
    return _ASKING.sub("", text).strip() or text


# A rate, sum or quantity of something (補助率, 上限額, 削減量, 参加者数) is an attribute as well: 「補助率はどうなって
# いますか」 after a question about a subsidy asks that subsidy's rate.
_QUANTITY = re.compile(r"[\u3400-\u9fff]{1,3}(率|額|量|数)")


def names_a_subject(question: str) -> bool:
    """Whether the question names something of its own beyond attributes and numbers (J-VER, 京都議定書)."""
    words = _WORDS.findall(ORDINAL.sub(" ", _NTH.sub(r"第\1回", key_terms(question))))  # 2回目 names no subject
    words = [w for w in words if not w.isdigit() and not w.startswith("何") and not _QUANTITY.fullmatch(w)]
    return any(w.lower() not in _ATTRIBUTES and w not in _ATTRIBUTES for w in words)


def refers_back(question: str) -> bool:
    """それ, その, 同, 当該, it, that…: the question names its subject by pointing at an earlier one."""
    return bool(_REFERS_BACK.search(question.strip()))


def is_follow_up(question: str) -> bool:
    return refers_back(question) or not names_a_subject(question.strip())


def _year_of(text: str) -> int | None:
    m = _YEAR.search(text)
    if not m:
        return None
    if m.group(1):
        return int(m.group(1))
    return _ERAS[m.group(3)] + (1 if m.group(4) == "元" else int(m.group(4)))


def resolve_relative_years(question: str, previous: str) -> str:
    """翌年 / 前年度 / 同年 as the year they mean, counted from the previous question's year."""
    base = _year_of(previous)
    if base is None:
        return question
    for word, delta in _RELATIVE_YEAR.items():
        if word in question:
            unit = "年度" if word.endswith("年度") else "年"
            return question.replace(word, f"{base + delta}{unit}")
    m = _RELATIVE_YEAR_EN.search(question)
    if m:
        delta = _EN_DELTA[(m.group(1) or m.group(3)).lower()]
        unit = "年度" if m.group(2) or "年度" in previous else "年"
        return question[: m.start()] + f"{base + delta}{unit}" + question[m.end() :]
    return question


def with_asked_ordinal(question: str, subject: str) -> tuple[str, str]:
    """An ordinal of the question replaces the previous subject's ordinal of the same kind:
    "2回目は？" after "第1回検討委員会" → ("第2回は？", "検討委員会")."""
    question = _NTH.sub(r"第\1回", question)
    kinds = {m.group(2) for m in ORDINAL.finditer(question)}
    if not kinds:
        return question, subject
    subject = ORDINAL.sub(lambda m: "" if m.group(2) in kinds else m.group(0), subject)
    return question, re.sub(r"\s+", " ", subject).strip()


def search_text(question: str, history: Sequence[str], depth: int = MAX_DEPTH, previous_answer: str = "") -> str:
    """What to search for: the question, preceded by the previous turn's subject when it is a follow-up.

    `previous_answer` (the text answered to the last question, when the caller has it) dates a relative year
    the previous question did not: 「その翌年には何が始まりましたか？」 after 「J-VER制度はいつ始まりましたか？」,
    answered 「…2008(平成20)年11月に創設」, asks about 2009."""
    question = question.strip()[:MAX_QUESTION_CHARS]
    if not history or depth <= 0 or not is_follow_up(question):
        return question
    previous = search_text(history[-1], history[:-1], depth - 1)  # a chain of follow-ups keeps its subject
    dated = previous if _year_of(previous) is not None else previous_answer.split("\n")[0]
    question = resolve_relative_years(question, dated)
    subject = key_terms(previous)
    if _year_of(question) is not None:  # "What about 2011?": the new year replaces the earlier one
        subject = re.sub(r"\s+", " ", _YEAR.sub(" ", subject)).strip(" のは")
    question, subject = with_asked_ordinal(question, subject)
    return f"{subject} {question}".strip()
