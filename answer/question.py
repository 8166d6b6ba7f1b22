"""What kind of answer a question asks for, and whether a sentence or table record holds that kind of value.

Japanese questions say what they ask in a few fixed words (誰 → a person or body, いつ → a date, いくら /
何% / 何件 → an amount, どこ → a place, 第何条 → an article, とは → a definition, なぜ → a reason); English
ones in their wh-word. An answer is a unit (a sentence or a table record) holding a value of that kind: a
heading, a label or a lone cell is not. Types whose values can be recognised by their form (dates,
amounts, articles) are required of the answer; the others (a person, a place, a definition, a reason)
are preferred, because a name or a place has no form a pattern can be sure of.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ingest.tables import Record


class AnswerType(StrEnum):
    WHO = "who"
    WHEN = "when"
    AMOUNT = "amount"
    WHERE = "where"
    ARTICLE = "article"
    DEFINITION = "definition"
    REASON = "reason"
    OTHER = "other"


# Order matters: "何年に" is a date, "何%" an amount, "第何条" an article before anything else.
_RULES: list[tuple[AnswerType, re.Pattern]] = [
    (AnswerType.ARTICLE, re.compile(r"第\s*何\s*条|何条|which article", re.I)),
    # "期間は何年ですか" and "何年間" ask for a length of time, "何年に" for a date
    (AnswerType.AMOUNT, re.compile(r"何年間|何か年|何カ年|何ヶ年|(期間|年数|任期)\S{0,4}何年|how many years", re.I)),
    (
        AnswerType.WHEN,
        re.compile(
            r"いつ|何年|何月|何日|何時|何曜|時期|日程|日付|年月日|期限|締切|when\b|what (year|date|day|month|time)"
            r"|which (year|date|day|month)|how long ago",
            re.I,
        ),
    ),
    (
        AnswerType.AMOUNT,
        re.compile(
            r"いくら|何\s*[%％]|何パーセント|何割|割合|何件|何人|何名|何回|何か所|何箇所|何カ所|何ヶ所|何社|何団体"
            r"|何トン|何キロ|何ヘクタール|何円|何万|何倍|何歳|何個|何本|何点|何区|何市|何色|何種|何時間|何分"
            r"|いくつ|どれくらい|どれだけ|どのくらい|金額|費用|how (many|much)|what (percentage|share|amount)",
            re.I,
        ),
    ),
    (AnswerType.WHO, re.compile(r"誰|だれ|どなた|何という人|何者|who\b|whom\b|whose\b", re.I)),
    (AnswerType.WHERE, re.compile(r"どこ|何処|何県|何国|どの(国|県|市|町|村|地域|場所)|where\b", re.I)),
    (AnswerType.REASON, re.compile(r"なぜ|何故|どうして|理由|why\b", re.I)),
    (
        AnswerType.DEFINITION,
        re.compile(r"とは|って何|ってなに|とはどのような|の意味|what (is|are|does) (an? |the )?\S+( mean)?\??$", re.I),
    ),
]

_DATE = re.compile(r"\d{4}\s*年|\d{4}\s*[(（]|(平成|令和|昭和|大正|明治)\s*(\d+|元)\s*年|\d+\s*月|\d+\s*日|\d{4}")
_AMOUNT = re.compile(
    r"\d[\d,.]*\s*(%|％|割|件|人|名|回|か所|箇所|カ所|ヶ所|社|団体|t|トン|kg|キロ|ha|ヘクタール|円|万|億|倍|歳|個|本|点"
    r"|区|市|町|村|年間|年|か月|ヶ月|日|時間|分|km|m|kW|%)|[一二三四五六七八九十百千万]+\s*(人|件|回|か所|社|倍)"
)
_ARTICLE = re.compile(r"第\s*\d+\s*条")
_PERSON = re.compile(
    r"[\u4e00-\u9fff]{1,4}[ \u3000][\u4e00-\u9fff\u3040-\u309f]{1,4}(?=\s|$|\t|、|。|\(|（)"  # 今福 芳明 (rosters)
    r"|氏|さん|様|先生|教授|准教授|博士|会長|社長|理事長|委員長|座長|部長|課長|局長|所長|室長|係長|大臣|長官|知事"
    r"|市長|区長|町長|村長|議員|委員|事務局長|代表|天皇|将軍|首相|大統領|王|皇帝|選手|監督|作家|画家|[ァ-ヶー]{3,}"
)
_BODY = re.compile(
    r"省|庁|局|部|課|室|協会|会社|株式会社|法人|大学|研究所|委員会|審議会|センター|機構|団体|組合|政府|都|道|府|県|市|区|町|村"
)
_PLACE = re.compile(
    r"都|道|府|県|市|区|町|村|国|州|島|山|川|湖|駅|港|空港|地方|地域|会館|ホール|センター|庁舎|会議室|室|公園|[ァ-ヶー]{3,}"
)
_DEFINES = re.compile(r"とは|をいう|のこと|である|を指す|制度|仕組み|とされ|と呼ば|の一種|の総称|です|ます")
_BECAUSE = re.compile(r"ため|ので|から|により|によって|理由|目的|背景|ことから|結果")

_PERSON_COLUMNS = ("氏名", "名前", "委員", "担当", "講師", "代表", "委員長", "座長", "人", "者")
_DATE_COLUMNS = ("日程", "日付", "年月", "日時", "期日", "時期", "年度", "開催日", "期限")
_PLACE_COLUMNS = ("場所", "会場", "所在", "自治体", "地域", "住所", "開催地")

# Whose value a pattern can be sure of: required of the answer. The rest are only preferred.
REQUIRED = {AnswerType.WHEN, AnswerType.AMOUNT, AnswerType.ARTICLE}


def answer_type(question: str) -> AnswerType:
    for kind, pattern in _RULES:
        if pattern.search(question):
            return kind
    return AnswerType.OTHER


def holds(kind: AnswerType, text: str, record: Record | None = None) -> bool:
    """Whether a unit holds a value of the asked kind (a record: judged by its columns and cells)."""
    if kind is AnswerType.OTHER:
        return True
    if record is not None:
        columns = " ".join(record.columns)
        cells = " ".join(record.cells)
        if kind is AnswerType.WHO:
            return any(c in columns for c in _PERSON_COLUMNS) or bool(_PERSON.search(cells))
        if kind is AnswerType.WHEN:
            return any(c in columns for c in _DATE_COLUMNS) or bool(_DATE.search(cells))
        if kind is AnswerType.WHERE:
            return any(c in columns for c in _PLACE_COLUMNS) or bool(_PLACE.search(cells))
        text = cells
    if kind is AnswerType.WHEN:
        return bool(_DATE.search(text))
    if kind is AnswerType.AMOUNT:
        return bool(_AMOUNT.search(text))
    if kind is AnswerType.ARTICLE:
        return bool(_ARTICLE.search(text))
    if kind is AnswerType.WHO:
        return bool(_PERSON.search(text) or _BODY.search(text))
    if kind is AnswerType.WHERE:
        return bool(_PLACE.search(text))
    if kind is AnswerType.DEFINITION:
        return bool(_DEFINES.search(text))
    return bool(_BECAUSE.search(text))
