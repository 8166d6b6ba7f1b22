"""Query expansion for keyword matching: English domain terms to Japanese, and 和暦 ↔ 西暦 years.

The dense model is multilingual and reads the question as asked; BM25 and the extractive answerer match
characters, so an English question ("Who chaired the 2011 committee?") or a year written in the other
calendar (平成22年度 / 2010年度) would otherwise share no token with the passage that answers it.
"""

from __future__ import annotations

import re

from basics.jatext import nfkc

# English words officials use → the Japanese terms of the documents. Longest phrases are matched first.
# An English word often has several Japanese renderings, one per kind of body or document ("chair": 座長 of a
# study group, 委員長 of a committee, 会長 of a council); they are listed with "|" and all searched, and the
# word counts as absent from the documents only when none of them is there (glossary_groups).
GLOSSARY = {
    "carbon offset": "カーボン・オフセット",
    "carbon neutral": "カーボン・ニュートラル",
    "offset credit": "オフセット・クレジット",
    "kyoto protocol": "京都議定書",
    "greenhouse gas": "温室効果ガス",
    "global warming": "地球温暖化",
    "climate change": "気候変動",
    "vice chair": "副座長|副委員長|副会長",
    "vice-chair": "副座長|副委員長|副会長",
    "chaired": "座長|委員長|会長",
    "chair": "座長|委員長|会長",
    "chairperson": "座長|委員長|会長",
    "committee": "委員会|協議会|審議会|連絡会",
    "municipal": "自治体",
    "municipality": "自治体",
    "municipalities": "自治体",
    "ward": "区",
    "wards": "区",
    "village": "村",
    "tokyo": "東京",
    "metropolitan government": "東京都",
    "forest": "森林",
    "forests": "森林",
    "forestry": "森林整備",
    "absorption": "吸収",
    "emission": "排出",
    "emissions": "排出",
    "reduction": "削減",
    "reduce": "削減",
    "target": "目標",
    "targets": "目標",
    "plan": "計画",
    "guideline": "ガイドライン",
    "guidelines": "指針",
    "certification": "認証",
    "certified": "認証",
    "credit": "クレジット",
    "credits": "クレジット",
    "survey": "アンケート",
    "questionnaire": "アンケート",
    "temperature": "気温",
    "average": "平均",
    "global": "世界",
    "world": "世界",
    "rise": "上昇",
    "rose": "上昇",
    "increase": "上昇",
    "sea level": "海面水位",
    "household": "家庭部門",
    "households": "家庭部門",
    "cabinet": "閣議決定",
    "law": "法",
    "bill": "法案",
    "policy": "方針",
    "experts": "識者委員",
    "expert": "識者委員",
    "secretary general": "事務局長",
    "director": "課長|部長|所長|局長",
    "meeting": "委員会|会議|会合",
    "energy": "エネルギー",
    "japan": "日本",
    "japanese": "日本",
    "years": "年間",
    "percent": "%",
    "members": "委員",
    "member": "委員",
    "cap-and-trade": "キャップ&トレード|排出量取引",
    "cap and trade": "キャップ&トレード|排出量取引",
    "emissions trading": "排出量取引|キャップ&トレード",
    "facility": "事業所",
    "facilities": "事業所",
    "covered": "対象",
    "eligible": "対象",
    "subsidy": "助成",
    "subsidies": "助成",
    "water heater": "給湯器",
    "water heaters": "給湯器",
    "insulation": "断熱",
    "ministry": "省",
    "ministries": "省",
    "jointly": "共同",
    "run": "運営",
    "operate": "運営",
    "scheme": "制度",
    "program": "制度",
    "programme": "制度",
    "system": "制度",
    "certificate": "証書",
    "certificates": "証書",
    "sales": "売上金",
    "money": "お金",
    "procure": "調達",
    "procured": "調達",
    "purchase": "購入",
    "buy": "購入",
    "event": "イベント",
    "events": "イベント",
    "population": "人口",
    "partnership": "連携協定",
    "agreement": "協定",
    "thinning": "間伐",
    "deadline": "期限",
    "period": "期間",
    "solar": "太陽光",
    "renewable": "再生可能エネルギー",
    "price": "価格|単価",
    "maximum": "上限",
    "upper limit": "上限",
    "minimum": "下限",
    "per tonne": "1トン当たり",
    "per ton": "1トン当たり",
    "tonne": "トン",
    "tonnes": "トン",
    "procedure": "手順|手続",
    "procedures": "手順|手続",
    "council": "審議会|協議会|議会|連絡会",
    "liaison council": "連絡会",
    "mayor": "区長|市長|町長|村長",
}
_ERAS = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018}
_ERA_YEAR = re.compile(r"(明治|大正|昭和|平成|令和)\s*(\d{1,2}|元)\s*年")
_WESTERN_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)\s*年?")
_GLOSSARY_RE = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(GLOSSARY, key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def to_western(era: str, year: str) -> int:
    return _ERAS[era] + (1 if year == "元" else int(year))


def to_japanese_era(year: int) -> str | None:
    for era, base in sorted(_ERAS.items(), key=lambda kv: -kv[1]):
        if year > base:
            n = year - base
            return f"{era}{'元' if n == 1 else n}年"
    return None


def glossary_groups(question: str) -> list[list[str]]:
    """Per English word or phrase of the question, its Japanese renderings."""
    text = nfkc(question)
    found = dict.fromkeys(GLOSSARY[m.group(1).lower()] for m in _GLOSSARY_RE.finditer(text))
    return [value.split("|") for value in found]


def glossary_terms(question: str) -> list[str]:
    """The Japanese terms for the English words of a question (every rendering)."""
    return list(dict.fromkeys(t for group in glossary_groups(question) for t in group))


# Questions use everyday verbs, documents the Sino-Japanese nouns of the same events ("いつ始まりましたか" /
# "2008年11月 J-VER制度開始"); the stem of the verb brings the nouns into the keyword match.
VERB_NOUNS = {
    "始ま": "開始 創設 発足 導入",
    "始め": "開始 導入",
    "終わ": "終了 廃止",
    "決ま": "決定",
    "決め": "決定",
    "作ら": "策定 作成",
    "作っ": "策定 作成",
    "変わ": "改定 変更",
    "変え": "改定 変更",
    "選ば": "選任 選出",
    "開か": "開催",
    "結ば": "締結",
    "出さ": "公表 発表",
    "増え": "増加",
    "減っ": "減少 削減",
    "買え": "購入",
    "買う": "購入",
    "買っ": "購入",
    "売っ": "販売",
    "売ら": "販売",
    "払う": "支払",
    "払え": "支払",
}


_EN_ORDINALS = {
    w: n for n, w in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth".split(), start=1)
}
# "the second meeting" is 第2回 (the documents number meetings, sessions and rounds the same way)
_EN_NTH = re.compile(r"\b(" + "|".join(_EN_ORDINALS) + r"|\d+(?:st|nd|rd|th))\s+(meeting|session|round)s?\b", re.I)


def _nth(word: str) -> int:
    return _EN_ORDINALS.get(word.lower()) or int(re.sub(r"\D", "", word))


def expansions(question: str) -> list[str]:
    """Extra terms to match alongside the question (never replaces it)."""
    text = nfkc(question)
    extra = glossary_terms(question)
    extra += [f"第{_nth(m.group(1))}回" for m in _EN_NTH.finditer(text)]
    extra += [nouns for stem, nouns in VERB_NOUNS.items() if stem in text]
    extra += [f"{to_western(m.group(1), m.group(2))}年" for m in _ERA_YEAR.finditer(text)]
    for m in _WESTERN_YEAR.finditer(text):
        era = to_japanese_era(int(m.group(1)))
        if era and not _ERA_YEAR.search(text):
            extra.append(era)
    return list(dict.fromkeys(extra))


# A request's wording (「…を教えてください」「…を知りたいのですが」) says how an official asks, not what to look
# for; its bigrams match the one FAQ question worded the same way (「Q6問い合わせ先を教えてください。」) better
# than the passage that answers (a committee chair's name, where a certificate is sold).
_REQUEST = re.compile(
    r"(?:を|について)?(?:教えて|お教え)(?:ください|下さい|ほしい|欲しい|いただけ\w*|もらえ\w*|くれ\w*)"
    r"|(?:を|について)?知りたい(?:のですが|んですが|です)?|(?:よろしく)?お願い(?:します|いたします|致します)"
)


def without_request(question: str) -> str:
    return _REQUEST.sub(" ", question)


def expand(question: str) -> str:
    """The question, without its request wording, followed by its expansions, for character-level matching."""
    extra = expansions(question)
    base = without_request(question)
    return f"{base} {' '.join(extra)}" if extra else base
