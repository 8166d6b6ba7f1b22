"""What kind of sentence this is, for the generated-answer checker (answer/verify.py).

Each test is a kind of text, in Japanese and in English, not a list of known attacks:
- content words: what a claim asserts (Japanese: the jatext bigrams that hold a kanji or katakana, i.e. not
  particles or endings; English: words outside a small stop list, with plural/past endings folded; numbers);
- contacts: e-mail addresses, URLs and domain names, phone numbers (nine digits or more with separators);
- instructions: a sentence that tells its reader to do something (〜してください, 〜しなさい, please, you must,
  a sentence that opens with a verb of contact or action);
- addressed to the answerer: a passage sentence that speaks to whoever answers (ignore the instructions, answer
  only "…", the AI/assistant/prompt). Documents state facts; such a sentence is an injection, never evidence;
- negation: ない/ません/not/never…, compared between a claim and the sentence that supports it.
Leaves out: whether a document's own statements are true (a document that states a falsehood as fact is
quoted faithfully).
"""

from __future__ import annotations

import re

from basics.jatext import nfkc, tokenize

_HIRAGANA = re.compile(r"[\u3040-\u309f]")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# Function words: they occur in any English sentence and say nothing about what it claims. Negations are kept
# out of this list on purpose (they are compared separately, see `negated`).
STOP_WORDS = frozenset(
    """a an the of to in on at by for from with without and or but if then than so as is are was were be been
    being am do does did done has have had having it its this that these those there their they them he she his
    her we our us you your i me my which who whom whose what when where why how also about into over under up
    out per via each any all some such same other more most very can could will would shall should may might
    must just only both either there's it's""".split()
)
_EN_ENDINGS = ("ies", "ing", "ed", "es", "s")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(
    r"(?:https?|ftp)://\S+|www\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|info|biz|io|jp|co|go|lg)\b", re.I
)
# Nine or more digits in one run of digits and separators: 03-1234-5678, 0120 123 456, +81 (3) 1234 5678.
PHONE = re.compile(r"\+?\(?\d[\d\-() ]{7,}\d")

_INSTRUCTION_JA = re.compile(
    r"(?:て|で)(?:ください|下さい|くださ|ほしい|欲しい)|なさい|(?:し|せ|すれ)(?:よ|ろ)[。!！]?$|こと[。!！]?$"
    r"|(?:ご|お)(?:連絡|問い合わせ|問合せ|確認|相談|送付|送金|振込|入力|登録|申し込み)"
)
_INSTRUCTION_EN = re.compile(
    r"\bplease\b|\byou (?:must|should|need to|have to|are required to)\b|\bdo not\b|\bdon't\b"
    r"|^(?:contact|call|e-?mail|visit|click|send|write|go|ignore|disregard|forget|reply|respond|answer|tell|"
    r"apply|submit|pay|transfer|register|enter|check|see|note|remember|make sure|ensure)\b",
    re.I,
)
_TO_ANSWERER = re.compile(
    r"(?:指示|命令|ルール|設定)(?:を|は)?(?:すべて|全て)?(?:無視|忘れ)|(?:以前|これまで|上記|前|先)の(?:指示|命令)"
    r"|プロンプト|言語モデル|チャットボット|アシスタント|\bAI\b|(?:あなた|君)(?:は|が|に|の)"
    r"|(?:答え|(?:回答|返答|出力)し?|述べ)(?:て|で)?(?:ください|下さい|なさい|よ|ろ)|(?:答え|回答|返答|出力)(?:る際|の際|には|では)"
    r"|\bignore\b|\bdisregard\b|\b(?:system )?prompt\b|\binstructions?\b|\byou are (?:an?|the|now)\b|\bas an ai\b"
    r"|\blanguage model\b|\b(?:answer|reply|respond|output|say|write)(?: only)? (?:with|that|only|:)",
    re.I,
)
_NEGATION = re.compile(
    # な[いく] after an adjective stem is not a negation: 少なくとも ("at least"), 少ない, 危ない (the local
    # model's answer 「…少なくとも5%削減することを目的としています」 was taken for one).
    r"(?:(?<![少危切幼汚])な[いく]|ません|ず[、。,]|ず$|無い|無く|不可|ではない|ありません)"
    r"|\b(?:not|no|never|none|neither|nor|cannot|without)\b|n't\b",
    re.I,
)


def _stem(word: str) -> str:
    for ending in _EN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)] + ("y" if ending == "ies" else "")
    return word


def content_words(text: str) -> set[str]:
    """The words a sentence's claim rests on (see the module docstring)."""
    words = set()
    for token in tokenize(text):
        if token.isascii():
            if token not in STOP_WORDS and (len(token) > 1 or token.isdigit()):
                words.add(_stem(token) if token.isalpha() else token)
        elif not _HIRAGANA.search(token):
            words.add(token)
    return words


def is_japanese(text: str) -> bool:
    return bool(_JAPANESE.search(text))


def contacts(text: str) -> set[str]:
    """E-mail addresses, URLs/domains and phone numbers in the text, normalised (NFKC, digits only for phones)."""
    text = nfkc(text)
    found = {m.lower() for m in EMAIL.findall(text)}
    rest = EMAIL.sub(" ", text)
    found |= {m.lower().rstrip(".,)") for m in URL.findall(rest)}
    for m in PHONE.findall(rest):
        digits = re.sub(r"\D", "", m)
        if len(digits) >= 9:
            found.add(digits)
    return found


def contact_in(item: str, text: str) -> bool:
    """Whether a contact found by `contacts` is in the text (phones compared by their digits)."""
    return item in contacts(text) or (item.isdigit() and item in re.sub(r"\D", "", nfkc(text)))


def is_instruction(sentence: str) -> bool:
    """A sentence that tells its reader to do something."""
    text = nfkc(sentence).strip()
    return bool(_INSTRUCTION_JA.search(text) or _INSTRUCTION_EN.search(text))


def addresses_answerer(sentence: str) -> bool:
    """A passage sentence that speaks to whoever answers (an injection): never evidence for a claim."""
    return bool(_TO_ANSWERER.search(nfkc(sentence)))


def negated(sentence: str) -> bool:
    """Whether the sentence's claim is negated. Japanese puts the negation of the claim in the last clause
    (「…しきれない排出量は、…調達します」 is not negated; 「…当たらないため、…対象にはなりません」 is)."""
    text = nfkc(sentence).strip()
    if is_japanese(text):
        text = re.split(r"[、,]", text)[-1]
    return bool(_NEGATION.search(text))


_QUESTION = re.compile(r"[?？]\s*$|か[。.]?\s*$")


def is_question(sentence: str) -> bool:
    """A sentence that asks (an FAQ's Q line): it states nothing, so it supports nothing."""
    return bool(_QUESTION.search(nfkc(sentence)))


_ASKS_CONTACT = re.compile(
    r"連絡|問い?合わ?せ|電話|メール|アドレス|URL|ウェブ|ホームページ|サイト|窓口"
    r"|\b(?:contact|phone|telephone|e-?mail|address|website|web site|url|call|reach)\b",
    re.I,
)
_ASKS_PROCEDURE = re.compile(
    r"どう(?:すれ|した|やっ|したら)|方法|手続|手順|申請|やり方|仕方|必要な(?:もの|書類)"
    r"|\bhow (?:do|to|can|should|does|would)\b|\b(?:procedure|steps?|apply|application)\b",
    re.I,
)


def asks_for_contact(question: str) -> bool:
    return bool(_ASKS_CONTACT.search(nfkc(question)))


def asks_for_steps(question: str) -> bool:
    """A question whose answer is naturally an instruction (a procedure, or whom to contact)."""
    return bool(_ASKS_PROCEDURE.search(nfkc(question))) or asks_for_contact(question)
