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

from basics.jatext import nfkc, squash, tokenize
from index.keyword import FORM_WORDS
from index.query import glossary_groups, without_request
from ingest.tables import Record


class AnswerType(StrEnum):
    WHO = "who"
    WHEN = "when"
    AMOUNT = "amount"
    MONEY = "money"  # いくら, 金額, 費用, how much: a sum of money, not a time (午後5時15分) or a head count
    MEASURE = "measure"  # 「…の得票率は？」「標高は？」: a quantity named by its noun, not by 何/いくら
    WHERE = "where"
    ARTICLE = "article"
    DEFINITION = "definition"
    NAME = "name"  # 何と呼ばれるか, 何というか: the unit that gives the name
    REASON = "reason"
    CONTENT = "content"  # 「どんなことが話し合われましたか」: what a meeting discussed, what a plan contains
    OTHER = "other"


# Order matters: "何年に" is a date, "何%" an amount, "第何条" an article before anything else.
_RULES: list[tuple[AnswerType, re.Pattern]] = [
    (AnswerType.ARTICLE, re.compile(r"第\s*何\s*条|何条|which article", re.I)),
    # "期間は何年ですか", "何年間", "何年以上", "何日以内" ask for a length of time, "何年に" for a date
    (
        AnswerType.AMOUNT,
        re.compile(
            r"何年(間|以上|以内|未満|ごと|おき)|何か年|何カ年|何ヶ年|(期間|年数|任期|年限)\S{0,4}何年|how many years"
            r"|何(日|か月|カ月|ヶ月|週)(間|以上|以内|未満|ごと|おき|前|後)|how many (days|weeks|months)",
            re.I,
        ),
    ),
    # naming questions before the rest: "…の時期を何というか" asks for the name, not the time
    (
        AnswerType.NAME,
        re.compile(
            r"何と(いう|言う|呼|称)|なんと(いう|呼)|の(名前|名称|呼び名|通称|略称)は"
            r"|(is|are) (it|this|that|they) called",
            re.I,
        ),
    ),
    (
        AnswerType.WHEN,
        re.compile(
            r"いつ|何年|何月|何日|何時(?!間)|何曜|(時期|日程|日付|年月日|期限|締切|期日)は?[?？。]?$|when\b"
            r"|what (year|date|day|month|time)|which (year|date|day|month)|how long ago",
            re.I,
        ),
    ),
    (
        AnswerType.AMOUNT,
        re.compile(
            r"いくら(?!でも|か)|何\s*[%％]|何パーセント|何割|何位|何番目|何等|何種類|割合|何件|何人|何名|何回|何か所|何箇所|何カ所|何ヶ所|何社|何団体|何カ国|何か国"
            r"|何トン|何キロ|何ヘクタール|何円|何万|何倍|何歳|何個|何本|何点|何区|何市|何色|何種|何時間|何分|何議席|何州"
            r"|いくつ|どれくらい|どれだけ|どのくらい|金額|費用|how (many|much)|what (percentage|share|amount)",
            re.I,
        ),
    ),
    # 「会長のお名前」「委員の氏名」: the name of a person (お名前 is said of people only; 証書の名前 is NAME above)
    (
        AnswerType.WHO,
        re.compile(r"誰|だれ|どなた|何という人|何者|(人物|人)は?[?？。]?$|お名前|氏名|who\b|whom\b|whose\b", re.I),
    ),
    # a question that ends on a quantity's noun asks for its value: required when some unit near the question
    # holds a number, otherwise not (「二種」「十一」 are numbers a pattern may not read): see answer.extractive
    (
        AnswerType.MEASURE,
        re.compile(
            r"(率|数|額|量|標高|人口|面積|距離|速度|気温|温度|価格|高さ|長さ|重さ|広さ|深さ|年数)"
            r"(は|って)?\s*[?？。]?$"
        ),
    ),
    (AnswerType.WHERE, re.compile(r"どこ|何処|何県|何国|どの(国|県|市|町|村|地域|場所)|where\b", re.I)),
    (AnswerType.REASON, re.compile(r"なぜ|何故|どうして|理由|why\b", re.I)),
    (
        AnswerType.CONTENT,
        re.compile(
            r"(どんな|どのような|何の)(こと|話|議題|内容)|(何|なに)(が|を)(話し合|議論|検討|協議|審議|報告)"
            r"|(議題|主な内容|議事)は|what (was|were) (discussed|on the agenda)",
            re.I,
        ),
    ),
    (
        AnswerType.DEFINITION,
        re.compile(r"とは|って何|ってなに|とはどのような|の意味|what (is|are|does) (an? |the )?\S+( mean)?\??$", re.I),
    ),
]

_DATE = re.compile(r"\d{4}\s*年|\d{4}\s*[(（]|(平成|令和|昭和|大正|明治)\s*(\d+|元)\s*年|\d+\s*月|\d+\s*日|\d{4}")
_AMOUNT = re.compile(
    r"\d[\d,.]*\s*(%|％|割|件|人|名|回|か所|箇所|カ所|ヶ所|社|団体|t|トン|kg|キロ|ha|ヘクタール|円|万|億|倍|歳|個|本|点"
    r"|区|市|町|村|年間|年|か月|ヶ月|日|時間|分|平方|km|cm|mm|m|kW|%|メートル|キロメートル|センチ|票|議席|カ国|か国|府県|ドル|℃|°C|度|つ|種類|位)"
    r"|[一二三四五六七八九十百千万]+\s*(人|名|件|回|か所|社|倍|種|つ)"
)
_ARTICLE = re.compile(r"第\s*\d+\s*条")
# 「いつまでに送ってくれますか」 is answered by a time limit counted from an event: 「受け付けた日から14日以内に」
_WITHIN = re.compile(r"\d+\s*(日|営業日|週間|か月|カ月|ヶ月)\s*(以内|後|前)")
_PERSON = re.compile(
    r"[\u4e00-\u9fff]{1,4}[ \u3000][\u4e00-\u9fff\u3040-\u309f]{1,4}(?=\s|$|\t|、|。|\(|（)"  # 今福 芳明 (rosters)
    r"|氏|さん|様|先生|教授|准教授|博士|会長|社長|理事長|委員長|座長|部長|課長|局長|所長|室長|係長|大臣|長官|知事"
    r"|市長|区長|町長|村長|議員|委員|事務局長|代表|天皇|将軍|首相|大統領|王|皇帝|選手|監督|作家|画家|[ァ-ヶー]{3,}"
)
_ORGANS = "省|庁|局|課|室|協会|会社|法人|大学|研究所|委員会|審議会|センター|機構|団体|組合|政府"
_BODY = re.compile(rf"{_ORGANS}|部|株式会社|都|道|府|県|市|区|町|村")
# a named organisation (地方出入国在留管理局, 環境省); a lone 局 or 区 names none
_ORGAN = re.compile(rf"[\u4e00-\u9fff\u30a0-\u30ff]{{1,8}}({_ORGANS}|税関|部隊)")
# a named place (港区, 奥多摩町, 長野県) or a kind of place (窓口, 図書館, 会議室); a lone 区 is the ward itself
_PLACE = re.compile(
    r"[\u4e00-\u9fff]{1,5}(都|道|府|県|市|区|町|村|国|州|島|山|川|湖|駅|港)(?![\u4e00-\u9fff])"
    r"|窓口|図書館|会館|ホール|センター|庁舎|役所|役場|会議室|事務所|公園|施設|店舗|売店|会場|[ァ-ヶー]{3,}"
)
_DEFINES = re.compile(r"とは|をいう|のこと|である|を指す|制度|仕組み|とされ|と呼ば|の一種|の総称|です|ます")
_NAMES = re.compile(r"と(呼ば|呼ぶ|呼ん|いう|いい|言う|称|名付|名づ)|名称|名前|通称|略称|別名|愛称|[「『]")
_BECAUSE = re.compile(r"ため|ので|から|により|によって|理由|目的|背景|ことから|結果")

# いくら / 金額 / 費用 ask for money: 5時15分 (a time) or 86名 is an amount of something else. 「いくらでも」
# (as much as one likes) and 「いくらか」 (some) ask nothing.
_ASKS_MONEY = re.compile(r"いくら(?!でも|か)|幾ら|金額|費用|価格|料金|代金|値段|単価|how much", re.I)
_MONEY = re.compile(r"\d[\d,.]*\s*[万億千]?\s*(円|ドル|ユーロ|ポンド|元|ウォン)|無料|無償|\$\s*\d")

_FORMS = (_DEFINES, _NAMES, _BECAUSE)
# What a unit must hold to give each kind of answer
_VALUES = {
    AnswerType.WHEN: (_DATE, _WITHIN),
    AnswerType.AMOUNT: (_AMOUNT,),
    AnswerType.MONEY: (_MONEY,),
    AnswerType.MEASURE: (_AMOUNT,),
    AnswerType.ARTICLE: (_ARTICLE,),
    AnswerType.WHO: (_PERSON, _BODY),
    AnswerType.WHERE: (_PLACE, _ORGAN),  # どこ asks for an organisation as well (どこの職員, どこが発行)
    AnswerType.DEFINITION: (_DEFINES,),
    AnswerType.NAME: (_NAMES,),
    AnswerType.REASON: (_BECAUSE,),
}
_PERSON_COLUMNS = ("氏名", "名前", "委員", "担当", "講師", "代表", "委員長", "座長", "人", "者")
_DATE_COLUMNS = ("日程", "日付", "年月", "日時", "期日", "時期", "年度", "開催日", "期限")
_CONTENT_COLUMNS = ("内容", "議題", "概要", "議事", "案件", "事項", "テーマ")
_PLACE_COLUMNS = ("場所", "会場", "所在", "自治体", "地域", "住所", "開催地")

# Whose value a pattern can be sure of: required of the answer. The rest are only preferred.
REQUIRED = {AnswerType.WHEN, AnswerType.AMOUNT, AnswerType.MONEY, AnswerType.ARTICLE}


def answer_type(question: str) -> AnswerType:
    """The kind of value asked for, read from the question without its request wording (「…の人数を教えて
    ください」 ends on 人数 as 「…の人数は？」 does)."""
    question = without_request(question).strip()
    for kind, pattern in _RULES:
        if pattern.search(question):
            return AnswerType.MONEY if kind is AnswerType.AMOUNT and _ASKS_MONEY.search(nfkc(question)) else kind
    return AnswerType.OTHER


def holds(kind: AnswerType, text: str, record: Record | None = None, question: str = "") -> bool:
    """Whether a unit holds a value of the asked kind (a record: judged by its columns and cells).

    A value the question itself states is not an answer to it: 「第24回参院選(7月10日投開票)での得票率は？」 is not
    answered by a sentence whose only numbers are 第24回 and 7月10日, nor 「宮本顕治邸盗聴事件を起こしたのは誰」 by
    a sentence whose only person is 宮本顕治."""
    if kind is AnswerType.OTHER:
        return True
    if record is not None:
        columns = " ".join(record.columns)
        cells = " ".join(record.cells)
        if kind is AnswerType.WHO:
            return any(c in columns for c in _PERSON_COLUMNS) or _new_value(_PERSON, cells, question)
        if kind is AnswerType.WHEN:  # a roster's year is in its caption: 「(2)2010(平成22)年度 自治体委員会委員」
            dated = f"{record.caption} {cells}"
            return any(c in columns for c in _DATE_COLUMNS) or _new_value(_DATE, dated, question)
        if kind is AnswerType.WHERE:
            return any(c in columns for c in _PLACE_COLUMNS) or _new_value(_PLACE, cells, question)
        if kind is AnswerType.CONTENT:  # a meeting's row says what it discussed in its 内容 column; a roster does not
            return any(c in columns for c in _CONTENT_COLUMNS)
        text = cells
    if kind is AnswerType.CONTENT:
        return True  # any sentence may say what was discussed
    if kind is AnswerType.MEASURE:  # ordinals and dates are numbers but not quantities (第24回, 2014年12月)
        text = _NOT_QUANTITIES.sub(" ", text)
    elif kind is AnswerType.AMOUNT:  # a date is no amount: 「令和5年12月31日まで」 is not the 2年 of 任期は何年
        text = _DATES.sub(" ", text)
    return any(_new_value(pattern, text, question) for pattern in _VALUES[kind])


def _new_value(pattern: re.Pattern, text: str, question: str) -> bool:
    """A match of a value pattern not stated in the question. The form patterns of names, definitions and
    reasons (という, とは, ため) are not values: a question holds them as its answer does."""
    asked = squash(question) if pattern not in _FORMS else ""
    return any(not asked or squash(m.group()) not in asked for m in pattern.finditer(text))


# 「…の平均取引価格はいくらですか」「…の区長の名前は何ですか」: the attribute asked for stands right before は and
# the question word. Words that only say what form the answer takes (名前, 内容, 要件…) name nothing: the noun
# before their の does (区長の名前 → 区長).
# 「謝礼は、出席1回あたりいくら」: a short qualifier may stand between the attribute and the question word
_ASKED = re.compile(
    r"(は|って)[、,]?\s*(?:[^、。？?は]{0,12}?)(何|なに|いくら|幾ら|誰|だれ|いつ|どこ|どれ|どの|どう|どんな)"
)
_WORD = re.compile(r"[A-Za-z0-9\u30a0-\u30ff\u3400-\u9fff々]+")
_FORM_WORDS = FORM_WORDS | {
    "名前", "日付", "日程", "場所", "方法", "特徴", "意味", "数", "額", "量", "要件", "条件", "手続", "手続き",
    "手順", "流れ", "仕組み", "役割", "概要", "状況", "結果", "効果",
    # a count or a sum only says a number is wanted: 「登録されていた件数は何件」 is answered by 「184件が登録」
    "件数", "人数", "回数", "個数", "台数", "総数", "数量", "金額",
}  # fmt: skip
# Kinds whose value means nothing without what it is of: a number or a name found beside another attribute
# (購入単価の上限 for 平均取引価格, a meeting's date for 区長の名前) answers another question.
NAMED_ATTRIBUTE = {AnswerType.AMOUNT, AnswerType.MONEY, AnswerType.MEASURE, AnswerType.NAME}


def asked_attribute(question: str) -> str | None:
    """The attribute a Japanese question asks the value of (平均取引価格, 区長, 任期), or None when it has no
    such word right before its は + question word (English, 「何が少ない」, a bare 「いくら？」)."""
    text = nfkc(question)
    m = _ASKED.search(text)
    if not m:
        return None
    before = text[: m.start()]
    words = list(_WORD.finditer(before))
    if not words or words[-1].end() != len(before):
        return None
    word = words[-1].group()
    if word in _FORM_WORDS or len(word) < 2:
        if len(words) < 2 or before[words[-2].end() : words[-1].start()] != "の":
            return None
        word = words[-2].group()
    return word if len(word) >= 2 and not word.isdigit() and word not in _FORM_WORDS else None


# 「J-COFとは何ですか」「スマートコミュニティとは」: a term alone before とは is the thing to define. A description
# before it (「登記上の番号とは？」) is not: it describes what is asked, and the answer names it in other words.
_DEFINED = re.compile(
    r"^\s*([A-Za-z0-9\u30a0-\u30ff\u3400-\u9fff々・\-]+)\s*(?:とは|って)\s*(?:何|なに|どういう|どのような|どんな|[?？。]|$)"
    r"|^\s*([A-Za-z0-9\u30a0-\u30ff\u3400-\u9fff々・\-]+)の意味"
)


def defined_term(question: str) -> str | None:
    """The term a "what is X" question asks to define, when the question names it as one word."""
    m = _DEFINED.match(nfkc(question))
    term = m and (m.group(1) or m.group(2))
    return term if term and len(term) >= 2 else None


# 「J-COFの役割は？」「証書の購入方法は何ですか」: a word that only says what is wanted of a thing (役割, 方法,
# 特徴) stands after the thing; that thing is the question's subject. Not 名前 or 日程: 「…の結婚相手の名前は」 is
# answered by a name, in a sentence that need not say 結婚相手.
_ASPECTS = {
    "役割", "目的", "特徴", "概要", "意味", "仕組み", "内容", "効果", "方法", "手順", "流れ", "要件", "条件", "定義",
}  # fmt: skip
_OF_FORM = re.compile(r"([A-Za-z0-9\u30a0-\u30ff\u3400-\u9fff々・\-]{2,})の([\u30a0-\u30ff\u3400-\u9fff]+)(?:は|って)")


def subject_term(question: str) -> str | None:
    """The thing a question asks about when it names it by one word: the term to define (「J-COFとは」) or the
    owner of a form word (「J-COFの役割は」)."""
    term = defined_term(question)
    if term:
        return term
    m = _OF_FORM.search(nfkc(question))
    return m.group(1) if m and m.group(2) in _ASPECTS else None


def named_in(attribute: str, texts: list[str]) -> bool:
    """Whether any search token (a two-character piece) of the attribute occurs in the texts: compounds are
    split and reordered freely (取引価格 / 価格, 区長 / 区長名), and passages say an attribute in other words
    (助成 … 上限額 for 助成金, 「86名が参加」 for 参加者数). Requiring the compound's head instead (加費 of 参加費)
    abstained on 2 of 40 answerable questions of a tuning set; a fee asked of passages that give none is caught
    by the money check instead (answer.extractive)."""
    wanted = set(tokenize(attribute))
    return any(wanted.intersection(tokenize(t)) for t in texts)


# 「東都区環境審議会の会長は誰」「2010年度の識者委員で副座長を務めたのは」: a question for the holder of a role
# is answered by a unit that names that role — a roster row's 備考 (座長), 「会長の…氏」. A role written with 副
# is another role: 副座長 does not answer 座長, nor the other way round.
_ROLE = re.compile(
    r"副?(?:座長|委員長|会長|議長|部会長|理事長|社長|事務局長|区長|市長|町長|村長|知事|首相|大統領|総理大臣)"
)


def asked_roles(question: str) -> list[str]:
    """The role a who-question asks the holder of (会長 in 「…審議会の会長のお名前」; 座長, 委員長 and 会長 for an
    English "who chaired"), or none."""
    if answer_type(question) is not AnswerType.WHO:
        return []
    m = _ROLE.search(nfkc(question))
    if m:
        return [m.group()]
    return [t for group in glossary_groups(question) for t in group if _ROLE.fullmatch(t)]


def _role_spans(role: str, text: str) -> list[tuple[int, int]]:
    """Where the text names the role itself: 座長 is not named by 副座長."""
    return [m.span() for m in re.finditer(role, text) if role[0] == "副" or text[m.start() - 1 : m.start()] != "副"]


# In prose a role is written with its holder's name: before it (志位委員長, ドレースが首相を) or after it (会長の田中氏,
# 会長に田中充氏を選出); 「審議会会長」 puts a body there, 「会長は、改定素案について…」 no one.
_BEFORE_ROLE = re.compile(r"([\u4e00-\u9fff]{2,5}|[\u30a1-\u30fa\u30fc・]{3,})(?:が|は)?$")
_AFTER_ROLE = re.compile(
    r"^\s*(?:[のにはを:：]|である|として)?\s*[\u4e00-\u9fff]{1,4}\s?[\u4e00-\u9fff]{0,3}(?:氏|さん|様|先生)"
)


def _cell_role(role: str, cell: str) -> bool:
    """A roster cell that is the role (備考: 座長) or a title ending on it (所属・役職: イクレイ日本 事務局長)."""
    return any(start == 0 or end == len(cell) for start, end in _role_spans(role, cell))


def holds_role(roles: list[str], text: str, record: Record | None = None) -> bool:
    """Whether a unit gives the holder of one of the roles: a roster row with the role in a cell of its own or
    at the end of a title (not a schedule row whose 主な内容 is 「座長、副座長の選任」), or a sentence that names
    the role with a person's name."""
    if record is not None:
        return any(_cell_role(role, nfkc(cell).strip()) for role in roles for cell in record.cells)
    text = nfkc(text)
    for role in roles:
        for start, end in _role_spans(role, text):
            before = _BEFORE_ROLE.search(text[:start])
            if before and not _BODY.search(before.group(1)[-3:]) or _AFTER_ROLE.match(text[end:]):
                return True
    return False


# 「市澤委員の後を継いだのは誰」「後任は誰？」, "who took over from …": the member who followed another
_SUCCESSOR = re.compile(r"後任|後を継|後継|引き継いだ|交代した|took over|succeeded|replaced|successor", re.I)


def asks_successor(question: str) -> bool:
    return bool(_SUCCESSOR.search(nfkc(question)))


# 「何種類の検索オプション」「世界何位」「いくつのチャンネル」: the counter asked for is the one the answer's number
# carries (15種類, 17位, 2つのチャンネル); another number in the same passage (250億, 13億) answers another question.
_COUNTER = re.compile(
    r"何\s*((?:か|カ|ヶ|ケ)?[\u4e00-\u9fff\u30a0-\u30ff]+)|いくつの\s*([\u4e00-\u9fff\u30a0-\u30ff]+)"
)
_NUMBER = r"(?:\d[\d,.]*|[一二三四五六七八九十百千万]+)\s*[万億千]?\s*(?:つの|つ|の)?\s*"  # 160のドメイン名
_RANKS = ("位", "番", "等")  # a rank is also written as an ordinal: 第3党 answers 何位


def asked_counter(question: str) -> str | None:
    """The counter a how-many question names (種類 in 何種類, 位 in 何位, チャンネル in いくつのチャンネル), as the
    first character of it that an answer's number is written with (the first two for か国, ヶ所)."""
    m = _COUNTER.search(nfkc(question))
    if not m:
        return None
    word = m.group(1) or m.group(2)
    return word[:2] if word[0] in "かカヶケ" else word[:1]


def counts(counter: str, text: str, question: str = "") -> bool:
    """Whether the unit holds a number with the counter asked for, other than one the question states. A date
    counts nothing: 令和6年度 in a roster's caption is not the 2年 of 「任期は何年」, nor 11月18日 a number of days."""
    pattern = re.compile(_NUMBER + re.escape(counter) + (r"|第\s*\d+" if counter in _RANKS else ""))
    return _new_value(pattern, _DATES.sub(" ", nfkc(text)), question)


_DATES = re.compile(
    r"(?:(?:19|20)\d\d|(?:明治|大正|昭和|平成|令和)\s*(?:\d{1,2}|元))\s*年度?(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*日"
)


_NOT_QUANTITIES = re.compile(r"第\s*\d+\s*\S|\d{4}\s*年度?|\d{1,2}\s*月|\d{1,2}\s*日")


# --- years: a question that names a year wants the unit of that year ----------------------------------
_FISCAL = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*(?:\((?:平成|令和|昭和)\s*(?:\d{1,2}|元)\))?\s*年度")
_ERA_FISCAL = re.compile(r"(平成|令和|昭和)\s*(\d{1,2}|元)\s*年度")
_WESTERN = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_ERA = re.compile(r"(平成|令和|昭和)\s*(\d{1,2}|元)\s*年")
_ERA_BASE = {"昭和": 1925, "平成": 1988, "令和": 2018}


def _era(m: re.Match) -> int:
    return _ERA_BASE[m.group(1)] + (1 if m.group(2) == "元" else int(m.group(2)))


# "2013年度比で50%削減", "1990年比": a base year of comparison, not the year the unit is about
_BASE_YEAR = re.compile(r"((?:19|20)\d\d|(?:平成|令和|昭和)\s*(?:\d{1,2}|元))\s*(?:\([^)]{0,8}\))?\s*年度?比")


def fiscal_years(text: str) -> set[int]:
    """Fiscal years named (2009年度, 2009(平成21)年度, 平成21年度), not base years of a comparison."""
    text = _BASE_YEAR.sub("", text)
    return {int(m.group(1)) for m in _FISCAL.finditer(text)} | {_era(m) for m in _ERA_FISCAL.finditer(text)}


def years(text: str) -> set[int]:
    """Every year named, western or era (平成21年 = 2009), not base years of a comparison."""
    text = _BASE_YEAR.sub("", text)
    return {int(m.group(1)) for m in _WESTERN.finditer(text)} | {_era(m) for m in _ERA.finditer(text)}


_WRITTEN_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)\s*年?")


def asked_years(question: str) -> str:
    """The years a question names, as it writes them (「2011年度」, 「平成22年」), for a note."""
    text = nfkc(question)
    found = [m.group(0).strip() for p in (_FISCAL, _ERA_FISCAL, _WRITTEN_YEAR, _ERA) for m in p.finditer(text)]
    kept = [y for y in dict.fromkeys(found) if not any(y != o and y in o for o in found)]
    return "・".join(f"「{y}」" for y in kept)


def asks_a_year(question: str) -> bool:
    return bool(years(question) or fiscal_years(question))


def year_fit(question: str, unit: str) -> float:
    """1 when the unit is of the year the question names (or names none), less when it is of another year.

    A fiscal year asked (2011年度) is matched against the unit's fiscal years first: a meeting of January 2012
    belongs to 2011年度, and a table of 2010年度 lists a meeting in January 2011."""
    asked_fy, asked = fiscal_years(question), years(question)
    if not asked:
        return 1.0
    unit_fy = fiscal_years(unit)
    if asked_fy and unit_fy:
        return YEAR_MATCH if asked_fy & unit_fy else YEAR_MISMATCH
    unit_years = years(unit)
    if not unit_years:
        return 1.0
    return YEAR_MATCH if asked & unit_years else YEAR_MISMATCH


YEAR_MATCH, YEAR_MISMATCH = 1.2, 0.5


# --- ordinals: 第2回 is not 第1回, 第5条 is not 第6条 ---------------------------------------------------
# 第N回, 第N条…, and the numbered periods of a scheme (第一計画期間, 第二約束期間)
ORDINAL = re.compile(
    r"第\s*(\d+|[一二三四五六七八九十]+)\s*([\u4e00-\u9fff]{0,2}期間|回|条|章|節|項|号|版|期|次|部|編)"
)
_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九", start=0)}


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if "十" in text:  # 二十三 → 23, 十五 → 15
        tens, _, ones = text.partition("十")
        return (_KANJI_DIGITS.get(tens, 1) if tens else 1) * 10 + (_KANJI_DIGITS.get(ones, 0) if ones else 0)
    return _KANJI_DIGITS.get(text, 0)


def ordinals(text: str) -> set[tuple[int, str]]:
    return {(_number(m.group(1)), m.group(2)) for m in ORDINAL.finditer(nfkc(text))}


def ordinal_fit(question: str, unit: str) -> float:
    """Like `year_fit`, for the ordinals that pick one item among its siblings (第2回の委員会, 第5条)."""
    asked = ordinals(question)
    if not asked:
        return 1.0
    found = ordinals(unit)
    kinds = {k for _, k in asked}
    same_kind = {o for o in found if o[1] in kinds}
    if not same_kind:
        return 1.0
    return YEAR_MATCH if asked & same_kind else YEAR_MISMATCH
