"""What a question asks (answer types, years, ordinals) and which questions continue a conversation."""

import pytest

from answer.conversation import is_follow_up, resolve_relative_years, search_text
from answer.extractive import _candidates, _names, _section_title, compose, query_weights
from answer.question import (
    AnswerType,
    answer_type,
    asked_attribute,
    asked_counter,
    asked_roles,
    asks_successor,
    counts,
    holds,
    holds_role,
    ordinal_fit,
    subject_term,
    year_fit,
)
from basics.jatext import tokenize
from index.query import expand
from index.search import Hit
from ingest.chunk import Chunk
from ingest.tables import parse_record

ROSTER = "(1)2009(平成21)年度 自治体委員会委員[氏名/自治体名/所属・役職/備考]"


@pytest.mark.parametrize(
    "question, kind",
    [
        ("2009年度の自治体委員会の座長は誰ですか？", AnswerType.WHO),
        ("Who chaired the municipal committee in 2010?", AnswerType.WHO),
        ("J-VER制度はいつ始まりましたか？", AnswerType.WHEN),
        ("申請の期限は？", AnswerType.WHEN),
        ("森林管理プロジェクトの認証対象期間は何年ですか？", AnswerType.AMOUNT),  # a length, not a date
        ("何年以上の党歴が必要か？", AnswerType.AMOUNT),
        ("家庭部門は何％削減する目標ですか？", AnswerType.AMOUNT),
        ("How many facilities are covered?", AnswerType.AMOUNT),
        ("補助金の上限は第何条に定められていますか？", AnswerType.ARTICLE),
        ("オフセット証書はどこで買えますか？", AnswerType.WHERE),
        ("J-VERとは何ですか？", AnswerType.DEFINITION),
        ("梅雨のような時期は秋にもあるが、これを何というか。", AnswerType.NAME),  # 時期 is the subject here
        ("なぜ家庭部門の目標を高くしたのですか？", AnswerType.REASON),
        ("カーボン・オフセットの取り組みについて教えてください", AnswerType.OTHER),
        ("東都区環境審議会の会長のお名前を教えてください", AnswerType.WHO),  # お名前 is a person's
        ("出席委員の人数を教えてください", AnswerType.MEASURE),  # read as 「出席委員の人数は？」
        ("販売決定通知書が届くのは申込みから何日以内ですか", AnswerType.AMOUNT),  # a length of time, not a date
    ],
)
def test_answer_type(question, kind):
    assert answer_type(question) is kind


def test_a_record_holds_a_person_by_its_columns_and_a_date_by_its_cells():
    roster = parse_record(f"{ROSTER}今福 芳明\t港区\t環境課長\t座長")
    schedule = parse_record(
        "(3)2011(平成23)年度[会議名称/日程/主な内容]第2回 総合委員会\t2012 (平成24)年2月16日\t・講評"
    )
    assert holds(AnswerType.WHO, "", roster) and holds(AnswerType.WHEN, "", roster)  # its caption's 2009年度
    undated = parse_record("自治体委員会委員[氏名/自治体名/所属・役職/備考]今福 芳明\t港区\t環境課長\t座長")
    assert not holds(AnswerType.WHEN, "", undated)
    assert holds(AnswerType.WHEN, "", schedule)
    assert holds(AnswerType.AMOUNT, "森林管理プロジェクトの認証対象期間は16年間とします。")
    assert not holds(AnswerType.AMOUNT, "プロジェクトは追加性を有するものでなければなりません。")
    assert holds(AnswerType.WHERE, "環境政策課窓口のほか、区内の図書館で購入できます。")
    assert not holds(AnswerType.WHERE, "区が販売する証書を購入することで参加できます。")  # 区 alone names no place


def test_the_year_and_the_ordinal_asked_pick_the_unit():
    q = "2011年度の第2回総合委員会はいつ開かれましたか？"
    right = "(3)2011(平成23)年度[会議名称/日程]第2回 総合委員会\t2012 (平成24)年2月16日"
    earlier_year = "(2)2010(平成22)年度[会議名称/日程]第8回 自治体委員会\t2011 (平成23)年1月20日"  # in FY2010
    assert year_fit(q, right) > 1 > year_fit(q, earlier_year)
    assert ordinal_fit(q, "第2回 総合委員会") > 1 > ordinal_fit(q, "第1回 総合委員会")
    assert year_fit("平成21年度の座長は誰ですか？", ROSTER) > 1  # 平成21 = 2009
    # a base year of comparison is not the year a target is about
    assert year_fit("2030年度までに家庭部門は何％削減？", "部門別削減目標(2013年度比) 家庭部門 56%") == 1.0
    assert year_fit("座長は誰ですか？", ROSTER) == 1.0


def _hit(cid, text, rank, similarity=0.6):
    chunk = Chunk(cid, "d" * 64, 1, "1", "添付資料1 > (1)2009(平成21)年度 > ●自治体委員会委員", text, 0, len(text))
    return Hit(chunk, "報告書", 1.0 / (rank + 1), {"dense": rank + 1}, similarity)


def test_the_roster_row_that_answers_is_quoted_not_its_neighbours_or_the_vice_chair():
    first = "\n".join(
        f"{ROSTER}{row}"
        for row in ("桑江 一久\t江戸川区\t環境部環境推進課長", "増田 章司\t国分寺市\t環境部環境計画課長\t副座長")
    )
    second = f"●自治体委員会委員\n{ROSTER}今福 芳明\t港区\t環境・街づくり支援部環境課長\t座長"
    answer = compose("2009年度の自治体委員会の座長は誰ですか？", [_hit("c1", first, 0), _hit("c2", second, 1)])
    # the record is shown with each cell named by its column; the citation quotes the stored line exactly
    assert answer.text.splitlines() == [
        "(1)2009(平成21)年度 自治体委員会委員 ｜ 氏名: 今福 芳明 ｜ 自治体名: 港区 ｜ "
        "所属・役職: 環境・街づくり支援部環境課長 ｜ 備考: 座長 [1]"
    ]
    assert answer.citations[0].chunk_id == "c2"
    assert answer.citations[0].quote == f"{ROSTER}今福 芳明\t港区\t環境・街づくり支援部環境課長\t座長"


def test_a_row_of_a_table_printed_once_a_year_is_answered_for_every_year_when_no_year_is_asked():
    def schedule(year, era, n, date):
        caption = f"({n}){year}(平成{era})年度[会議名称/日程/主な内容]"
        first = f"第1回 自治体委員会\t{year} (平成{era})年5月{n}日\t・座長の選任"
        rows = [first, f"第2回 自治体委員会\t{date}\t・報告"]
        return "\n".join(caption + r for r in rows)

    def hit(cid, text, rank, heading):
        chunk = Chunk(cid, "d" * 64, 1, "1", f"添付資料2 > {heading}", text, 0, len(text))
        return Hit(chunk, "報告書", 1.0 / (rank + 1), {"dense": rank + 1}, 0.6)

    hits = [
        hit("c1", schedule(2010, 22, 2, "2010 (平成22)年6月30日"), 0, "(2)2010(平成22)年度"),
        hit("c2", "カーボン・オフセットの普及について検討した。", 1, "概要"),
        hit("c3", schedule(2009, 21, 1, "2009 (平成21)年8月24日"), 2, "(1)2009(平成21)年度"),
    ]
    lines = compose("第2回自治体委員会はいつ開催されましたか？", hits).text.splitlines()
    assert [line.split(" ｜ ")[2] for line in lines] == ["日程: 2010 (平成22)年6月30日", "日程: 2009 (平成21)年8月24日"]
    # a year asked: that year's row alone
    lines = compose("2009年度の第2回自治体委員会はいつ開催されましたか？", hits).text.splitlines()
    assert len(lines) == 1 and "2009 (平成21)年8月24日" in lines[0]


def test_a_date_asked_and_none_in_the_passages_is_said_so():
    hits = [_hit("c1", "カーボン・オフセットは排出量を埋め合わせる取り組みです。", 0)]
    answer = compose("カーボン・オフセットはいつ始まりましたか？", hits)
    assert answer.abstained and "日付" in answer.note and answer.related


def test_follow_ups_refer_back_or_name_no_subject():
    assert not is_follow_up("J-VERとは何ですか？")
    assert not is_follow_up("京都議定書の目標は何ですか？")
    for q in (
        "それはいつ始まりましたか？",
        "その時の副座長は？",
        "翌年は誰でしたか？",
        "対象は何か所ですか？",
        "What about 2011?",
        "2009年4月の時点ではどのくらいでしたか",  # another date of the same thing
    ):
        assert is_follow_up(q), q
    history = ["2009年度の自治体委員会の座長は誰ですか？"]
    assert search_text("J-VERとは何ですか？", history) == "J-VERとは何ですか？"
    assert search_text("その時の副座長は？", history) == "2009年度の自治体委員会の座長 その時の副座長は？"
    # a relative year is resolved and replaces the earlier one
    assert search_text("翌年は誰でしたか？", history) == "自治体委員会の座長 2010年は誰でしたか？"
    assert resolve_relative_years("前年度の予算は？", "2012年度の予算") == "2011年度の予算は？"
    # a chain of follow-ups keeps the first subject
    chain = ["J-VERとは何ですか？", "それはいつ始まりましたか？"]
    assert search_text("その前年は？", chain).startswith("J-VER")


def test_a_relative_year_is_dated_by_the_previous_answer_when_the_previous_question_named_none():
    history = ["J-VER制度はいつ始まりましたか？"]
    answered = "「オフセット・クレジット(J-VER)制度」が、2008(平成20)年11月に創設されました。 [1]"
    assert search_text("その翌年には何が始まりましたか？", history, previous_answer=answered) == (
        "J-VER制度 その2009年には何が始まりましたか？"
    )
    # the previous question's own year comes first; without either, the question is searched as asked
    asked = ["2010年度の座長は誰ですか？"]
    assert "2011年" in search_text("翌年は誰でしたか？", asked, previous_answer="2008年に就任 [1]")
    assert search_text("その翌年には何が始まりましたか？", history).endswith("その翌年には何が始まりましたか？")


def test_an_ordinal_asked_after_another_item_of_the_series_replaces_it():
    assert is_follow_up("2回目は？") and is_follow_up("第3回は？")
    assert not is_follow_up("第3回検討委員会はいつですか？")  # names its subject
    assert search_text("２回目は？", ["第１回検討委員会はいつ開催された？"]) == "検討委員会 第２回は？"
    third = search_text("第3回は？", ["2010年度の第1回自治体委員会の日程は？"])
    assert third == "2010年度の自治体委員会の日程は 第3回は？"
    # an ordinal of another kind leaves the earlier one alone
    assert search_text("第2条は？", ["第1回委員会の議題は？"]) == "第1回委員会の議題は 第2条は？"


def test_a_year_no_passage_speaks_of_is_said_so():
    roster = f"{ROSTER}今福 芳明\t港区\t環境・街づくり支援部環境課長\t座長"
    hits = [_hit("c1", roster, 0)]
    assert not compose("平成21年度の自治体委員会の座長は誰ですか？", hits).abstained
    missing = compose("2008年度の自治体委員会の座長は誰ですか？", hits)
    assert missing.abstained and "年の記述" in missing.note and missing.related


def test_a_sentence_that_only_restates_the_question_is_quoted_with_the_next():
    text = "ドミニカ国には、世界遺産リストに登録された自然遺産が1件ある。モルヌ・トロワ・ピトン国立公園である。"
    hits = [_hit("c1", text, 0)]
    lines = compose("ドミニカ国の、世界遺産リストに登録された自然遺産はどこ？", hits).text.splitlines()
    assert len(lines) == 1 and "モルヌ・トロワ・ピトン国立公園" in lines[0]
    # half of it or more the question's own words: it mostly restates the question, and the answer follows
    text = "国内交通の中心は道路であり、リスボンとポルトを中心とした高速道路網が整備されている。原則として有料である。"
    answer = compose("リスボンとポルトを中心とした高速道路網は原則として有料か無料か。", [_hit("c1", text, 0)])
    assert "原則として有料である。" in answer.text.splitlines()[0]
    # a sentence that says something of its own stays alone
    text = "自然遺産はモルヌ・トロワ・ピトン国立公園である。島の北部には火山がある。"
    lines = compose("ドミニカ国の自然遺産はどこ？", [_hit("c1", text, 0)]).text.splitlines()
    assert lines == ["自然遺産はモルヌ・トロワ・ピトン国立公園である。 [1]"]


def test_an_faq_answer_is_about_the_question_before_it():
    faq = (
        "Q2 証書は1口いくらですか。\nA2 証書は1口500円です。\n"
        "Q3 証書の購入場所はどこですか。\nA3 環境政策課窓口と区内の図書館で取り扱っています。"
    )
    answer = compose("証書の購入場所はどこですか？", [_hit("c1", faq, 0)])
    assert answer.text.splitlines()[0] == "A3 環境政策課窓口と区内の図書館で取り扱っています。 [1]"


def test_chosen_sentences_that_follow_each_other_are_quoted_as_one_line():
    text = (
        "梅雨の期間中ほとんど雨が降らない場合がある。このような梅雨のことを空梅雨という。"
        "\n梅雨の末期には雷をともなった雨が降ることが多い。"
    )
    lines = compose("ほとんど雨が降らない梅雨のことを何という？", [_hit("c1", text, 0)]).text.splitlines()
    assert lines == ["梅雨の期間中ほとんど雨が降らない場合がある。このような梅雨のことを空梅雨という。 [1]"]


def test_a_question_ending_on_a_quantity_noun_prefers_a_unit_with_its_value():
    assert answer_type("第24回参院選での比例の得票率は？") is AnswerType.MEASURE
    assert answer_type("ピコ山の標高は") is AnswerType.MEASURE
    assert answer_type("仮説を唱えた人物は？") is AnswerType.WHO
    hits = [_hit("c1", "第24回参院選での比例の得票率は大きく伸びた。", 0), _hit("c2", "比例は10.74%となった。", 1)]
    assert compose("第24回参院選での比例の得票率は？", hits).text.splitlines()[0] == "比例は10.74%となった。 [1]"


def test_a_number_or_name_beside_another_attribute_is_not_the_answer():
    assert asked_attribute("J-クレジットの1トン当たりの平均取引価格はいくらですか？") == "平均取引価格"
    assert asked_attribute("東都区の区長の名前は何ですか？") == "区長"  # 名前 only says a name is wanted
    assert asked_attribute("審査の手数料はいくらですか") == "手数料"
    assert asked_attribute("委員への謝礼は、出席1回あたりいくらですか？") == "謝礼"  # a qualifier in between
    assert asked_attribute("What is the fee?") is None and asked_attribute("いくら？") is None
    price = [_hit("c1", "1トン当たりの購入単価の上限は、原則として5,000円とします。", 0)]
    answer = compose("J-クレジットの1トン当たりの平均取引価格はいくらですか？", price)
    assert answer.abstained and "平均取引価格" in answer.note and answer.related
    # the attribute in other words of the compound still counts: 価格 for 取引価格
    priced = [_hit("c1", "J-クレジットの価格は1トン5,000円です。", 0)]
    answer = compose("J-クレジットの取引価格はいくらですか？", priced)
    assert not answer.abstained and "5,000円" in answer.text
    # a count word only says a number is wanted
    registered = [_hit("c1", "2012年1月現在、184件がJ-VERプロジェクトとして登録されています。", 0)]
    answer = compose("2012年1月時点で、J-VERプロジェクトとして登録されていた件数は何件ですか？", registered)
    assert not answer.abstained and "184件" in answer.text
    # passages say an attribute in other words: 「86名が参加」 answers 参加者数; a fee they never give is no sum
    tour = [_hit("c1", "森林体験ツアーを毎年秋に開催しており、令和4年度は区民86名が参加しました。", 0)]
    answer = compose("森林体験ツアーの令和4年度の参加者数はどれくらいでしたか。", tour)
    assert not answer.abstained and "86名" in answer.text
    answer = compose("森林体験ツアーの参加費はいくらでしょうか。", tour)
    assert answer.abstained and "金額" in answer.note
    meeting = [_hit("c1", "東都区環境審議会 開催日時 令和4年11月18日(金)午後2時から", 0)]
    assert compose("東都区の区長の名前は何ですか？", meeting).abstained
    # who, where and other questions are not held to it: 政治家は誰 is answered by a name, not by the word 政治家
    who = [_hit("c1", "1977年3月にングアビは暗殺された。", 0)]
    assert not compose("1977年に暗殺された政治家は誰か", who).abstained


def test_a_value_the_question_states_is_not_its_answer():
    area = "人口70万人の首都の面積は？"
    assert not holds(AnswerType.MEASURE, "人口70万人の首都である。", question=area)
    assert holds(AnswerType.MEASURE, "首都の面積は3,920平方キロで、人口70万人である。", question=area)
    who = "宮本顕治委員長の邸宅を盗聴したのは誰か"
    assert not holds(AnswerType.WHO, "宮本顕治委員長の邸宅が盗聴された。", question=who)
    assert holds(AnswerType.WHO, "盗聴したのは山崎正友氏である。", question=who)
    # a name's form words are not values: 「…を何という」 is answered by 「…を空梅雨という」
    assert holds(AnswerType.NAME, "このような梅雨を空梅雨という。", question="雨の少ない梅雨を何という？")
    hits = [
        _hit("c1", "人口70万人の首都では公共交通が整備されている。", 0),
        _hit("c2", "首都の面積は約3,920平方キロである。", 1),
    ]
    assert compose(area, hits).text.splitlines()[0] == "首都の面積は約3,920平方キロである。 [1]"


def test_a_how_many_question_is_answered_by_the_number_with_its_counter():
    assert answer_type("協定世界時を何時間進ませた標準時か") is AnswerType.AMOUNT  # a length, not a time of day
    assert answer_type("オランダのGDPは世界何位でしたか") is AnswerType.AMOUNT
    assert asked_counter("何種類の検索オプションがあるか") == "種"
    assert asked_counter("いくつのチャンネルを持っているか") == "チ"
    assert asked_counter("何か国が加盟しているか") == "か国"
    text = "2006年には250億以上のウェブページに索引付けをした。ヘルプには15種類以上の検索オプションが紹介されている。"
    answer = compose("ヘルプには何種類の検索オプションが紹介されているか", [_hit("c1", text, 0)])
    assert answer.text.splitlines()[0].startswith("ヘルプには15種類以上")
    assert counts("ド", "Google Inc.は各国の160のドメイン名を所有している。")  # いくつのドメイン名 → 160の
    # a rank is also written as an ordinal
    assert counts("位", "地方議員の総数では第3党の位置を保っている。")
    assert not counts("位", "約2,800人の地方議員を抱える。")


def test_where_is_answered_by_an_organisation_as_well_as_a_place():
    assert holds(AnswerType.WHERE, "最寄の地方出入国在留管理局や税関から職員が出張する。")
    assert not holds(AnswerType.WHERE, "職員が出張して対応することになる。")


def test_a_term_asked_to_be_defined_is_answered_by_a_unit_that_names_it():
    assert subject_term("J-COFとは何ですか") == "J-COF" and subject_term("J-COFの役割は？") == "J-COF"
    assert subject_term("権利の範囲を表すための登記上の番号とは？") is None  # a description, not a term
    assert subject_term("リズムとは拍子の中にグループができることと考えたのは誰か") is None
    assert subject_term("マーラーの結婚相手の名前は？") is None  # answered by a name that need not say 結婚相手
    faq = "Q1カーボン・オフセットとは何ですか。\nA1削減が困難な部分を他の場所での排出削減で埋め合わせる考え方です。"
    row = (
        "(2)普及促進に係る取り組み[名称/概要] 2008(平成20)年4月\t○「カーボン・オフセットフォーラム(J-COF)」設置"
        " 環境省が設置した、情報収集・提供、普及啓発を行う組織"
    )
    answer = compose("J-COFとは何ですか", [_hit("c1", faq, 0), _hit("c2", row, 1)])
    assert "J-COF" in answer.text.splitlines()[0] and "埋め合わせ" not in answer.text
    answer = compose("J-COFの役割は？", [_hit("c1", faq, 0), _hit("c2", row, 1)])
    assert "J-COF" in answer.text.splitlines()[0] and "埋め合わせ" not in answer.text
    # an FAQ's question names what its answer defines: A1 is a unit naming カーボン・オフセット
    (a1,) = _candidates([_hit("c1", faq, 0)])
    assert a1.text.startswith("A1") and _names("カーボン・オフセット", a1) and not _names("J-COF", a1)


def _roster_hit(cid, year, rows, rank):
    n, era = {2009: (1, 21), 2010: (2, 22), 2011: (3, 23)}[year]
    caption = f"({n}){year}(平成{era})年度 自治体委員会委員[氏名/自治体名/所属・役職/備考]"
    text = "\n".join(caption + row for row in rows)
    heading = f"添付資料1:研究の実施体制 > ({n}){year}(平成{era})年度 > ●自治体委員会委員"
    chunk = Chunk(cid, "d" * 64, 1, "1", heading, text, 0, len(text))
    return Hit(chunk, "報告書", 1.0 / (rank + 1), {"dense": rank + 1}, 0.6)


def test_what_the_documents_say_only_of_another_year_is_shown_as_such():
    r2009 = ["桑江 一久\t江戸川区\t環境推進課長", "加藤 一美\t奥多摩町\t企画財政課長"]
    r2011 = ["水越 敦\t八王子市\t環境政策課主査", "佐藤 文宣\t府中市\t環境政策課長"]
    q = "2011年度の自治体委員会に奥多摩町から参加した委員は誰ですか？"
    answer = compose(q, [_roster_hit("c2", 2011, r2011, 0), _roster_hit("c1", 2009, r2009, 1)])
    assert answer.abstained and "水越" not in answer.text  # not another town's member of 2011
    assert "「2011年度」の記述には該当する内容が見つかりませんでした" in answer.note
    assert answer.related[0].chunk.id == "c1"  # the 2009 roster first, where 奥多摩町 is
    # the year asked holds it as well: its row answers, and no note
    r2011.append("加藤 一美\t奥多摩町\t企画財政課長")
    answer = compose(q, [_roster_hit("c1", 2009, r2009, 0), _roster_hit("c2", 2011, r2011, 1)])
    assert answer.text.startswith("(3)2011(平成23)年度") and "加藤 一美" in answer.text and not answer.note


def test_what_a_meeting_discussed_is_answered_by_its_row_not_by_the_roster():
    assert answer_type("そこではどんなことが話し合われましたか") is AnswerType.CONTENT
    assert answer_type("What was discussed at the first meeting?") is AnswerType.CONTENT
    roster = _roster_hit("c1", 2011, ["水越 敦\t八王子市\t環境政策課主査", "佐藤 文宣\t府中市\t環境政策課長"], 0)
    schedule = (
        "(3)2011(平成23)年度[会議名称/日程/主な内容]第1回 自治体委員会\t2011 (平成23)年5月18日\t・ケース検討について\n"
        "(3)2011(平成23)年度[会議名称/日程/主な内容]第1回 総合委員会\t2011 (平成23)年8月31日\t・中間報告"
    )
    hits = [roster, _roster_hit("c2", 2011, ["前田 充\t新島村\t企画調整室長"], 1), _hit("c3", schedule, 2)]
    question = "そこではどんなことが話し合われましたか"
    answer = compose(question, hits, searched=f"2011年度の第1回自治体委員会 {question}")
    assert "ケース検討" in answer.text.splitlines()[0]


def test_an_ordinal_the_series_does_not_reach_is_said_so():
    schedule = "\n".join(
        f"(2)2010(平成22)年度[会議名称/日程/主な内容]第{n}回 自治体委員会\t2010 (平成22)年{n + 4}月8日\t・報告"
        for n in range(1, 9)
    )
    hits = [_hit("c1", schedule, 0)]
    answer = compose("平成22年度の第10回自治体委員会はいつ開催されましたか", hits)
    assert answer.abstained and "「第10回」" in answer.note and answer.related
    answer = compose("平成22年度の第８回自治体委員会はいつ開催されましたか", hits)  # full-width digits
    assert not answer.abstained and "第8回" in answer.text.splitlines()[0]
    # the numbered periods of a scheme are a series too
    period = [_hit("c1", "第一計画期間(2010年度から2014年度まで)の削減義務率は、オフィスビル等で8%とされました。", 0)]
    answer = compose("第二計画期間の削減義務率は、オフィスビル等で何％ですか？", period)
    assert answer.abstained and "「第2計画期間」" in answer.note
    assert not compose("第一計画期間の削減義務率は、オフィスビル等で何％ですか？", period).abstained


def test_a_year_a_table_by_year_does_not_reach_is_said_so():
    table = "\n".join(
        f"(1)間伐の実施面積 年度別の間伐面積[年度/間伐面積/吸収量]令和{n}年度\t{30 + n}ヘクタール\t{200 + n}t-CO2"
        for n in (2, 3, 4)
    )
    other = "令和5年度は、区民森林ツアーを開催し、区民86名が参加しました。"
    answer = compose("令和５年度の間伐面積は何ヘクタールでしたか", [_hit("c1", table, 0), _hit("c2", other, 1)])
    assert answer.abstained and "「令和5年度」の記述には該当する内容が見つかりませんでした" in answer.note
    answer = compose("令和4年度の間伐面積は何ヘクタールでしたか", [_hit("c1", table, 0), _hit("c2", other, 1)])
    assert not answer.abstained and "34ヘクタール" in answer.text.splitlines()[0]


def test_a_note_that_says_something_is_quoted_a_note_that_labels_is_not():
    text = "まず、次のような演算子がある。\n※かつてのOR演算子は「|」に統合され、警告が出ていた。\n※五十音順"
    answer = compose("かつてのOR演算子は何に統合されていた？", [_hit("c1", text, 0)])
    assert answer.text.splitlines()[0].startswith("※かつてのOR演算子は「|」に統合され")
    assert "五十音順" not in answer.text


def test_money_asked_is_answered_by_a_sum_of_money_or_said_to_be_missing():
    assert answer_type("「金はいくらでも出そう」という誘いにのったのはだれか") is AnswerType.WHO  # an idiom
    assert answer_type("証書は1口いくらですか") is AnswerType.MONEY and answer_type("何件ですか") is AnswerType.AMOUNT
    faq = "A6東都区環境部環境政策課(電話03-1234-5678、平日午前8時30分から午後5時15分まで)にお問い合わせください。"
    answer = compose("南湊区が購入したクレジットの量と金額を教えてください。いくらですか", [_hit("c1", faq, 0)])
    assert answer.abstained and "金額" in answer.note  # 5時15分 is a time, not a sum
    priced = "証書は1口500円から購入できます。区内の図書館6か所で販売しています。"
    answer = compose("証書は1口いくらですか", [_hit("c1", priced, 0)])
    assert not answer.abstained and "500円" in answer.text.splitlines()[0]


def test_the_year_of_a_roster_row_is_its_tables_year():
    r2009 = ["増田 章司\t国分寺市\t環境計画課長\t副座長", "加藤 一美\t奥多摩町\t企画財政課長"]
    r2010 = ["前田 充\t新島村\t企画調整室長\t副座長", "今福 芳明\t港区\t環境課長\t座長"]
    hits = [_roster_hit("c1", 2009, r2009, 0), _roster_hit("c2", 2010, r2010, 1)]
    answer = compose("新島村の委員が副座長を務めたのは何年度ですか", hits)
    assert answer.text.splitlines()[0].startswith("(2)2010(平成22)年度") and "前田 充" in answer.text.splitlines()[0]


def test_the_next_meeting_is_the_next_row_of_the_schedule_even_in_the_next_passage():
    cap = "(2)2010(平成22)年度[会議名称/日程/主な内容]"
    first = f"{cap}第2回 自治体委員会\t2010 (平成22)年6月9日\t・報告\n"
    first += f"{cap}第3回 自治体委員会\t2010 (平成22)年7月14日\t・勉強会"
    second = f"{cap}第1回 総合委員会\t2010 (平成22)年7月22日\t・検討経過の報告\n"
    second += f"{cap}第4回 自治体委員会\t2010 (平成22)年8月5日"

    def hit(cid, text, rank):  # two chunks of one document, in order
        return Hit(Chunk(cid, "d" * 64, 5, "5", "添付資料2:研究の経過", text, 0, len(text)), "報告書", 1.0, {}, 0.6)

    hits = [hit("dddd-00007", first, 0), hit("dddd-00008", second, 1)]
    question = "その次の会議はいつ開かれましたか？"
    answer = compose(question, hits, searched=f"2010年度の第3回自治体委員会 {question}")
    assert "第1回 総合委員会" in answer.text.splitlines()[0] and "7月22日" in answer.text
    answer = compose(
        "その前の会議はいつでしたか", hits, searched="2010年度の第3回自治体委員会 その前の会議はいつでしたか"
    )
    assert "第2回 自治体委員会" in answer.text.splitlines()[0]
    # 「その前の委員長」 is a predecessor, not the row above
    answer = compose("その前の委員長は誰ですか", hits, searched="2010年度の第3回自治体委員会 その前の委員長は誰ですか")
    assert "第2回 自治体委員会" not in answer.text


def test_an_english_ordinal_meeting_is_the_numbered_one():
    from index.query import expand

    assert "第2回" in expand("When was the second meeting held?") and "第3回" in expand("the 3rd session")
    searched = expand("What is the maximum purchase price per tonne under the procedure?")
    assert all(w in searched for w in ("上限", "単価", "1トン当たり", "手順"))
    cap = "令和5年度 連絡会の開催状況[回/開催日/開催場所]"
    rows = "\n".join(
        f"{cap}第{n}回\t令和5年{m}月{d}日\t{place}"
        for n, m, d, place in ((1, 5, 19, "南湊区役所"), (2, 8, 28, "桐ヶ原村役場"), (3, 11, 16, "オンライン"))
    )
    answer = compose("When and where was the second meeting of the liaison council held?", [_hit("c1", rows, 0)])
    assert "桐ヶ原村役場" in answer.text.splitlines()[0]


def test_a_section_whose_title_the_question_names_answers_it():
    def hit(cid, heading, text, rank):
        return Hit(Chunk(cid, "d" * 64, 1, "1", heading, text, 0, len(text)), "概要", 1.0, {"dense": rank + 1}, 0.6)

    assert _section_title("第1章 制度の概要 > (2)対象となる事業所") == "対象となる事業所"
    text = "キャップ&トレード制度の事業所は、年間1,500キロリットル以上の燃料等を使用します。"
    # the same words in both headings; only the second is a section the question names
    hits = [
        hit("c1", "第1章 > (1)事業所の対象となる制度", text, 0),
        hit("c2", "第1章 > (2)対象となる事業所", text + "※", 1),
    ]
    answer = compose("キャップ＆トレード制度の対象となる事業所の要件は？", hits)
    assert answer.citations[0].heading.endswith("(2)対象となる事業所")


def test_the_nth_meeting_of_a_series_is_its_numbered_row_not_the_series_founding():
    intro = "森林カーボン・オフセット連絡会は、平成26年2月に南湊区と桐ヶ原村が締結した協定に基づき設置されたものです。"
    cap = "令和5年度 連絡会の開催状況[回/開催日/開催場所]"
    rows = f"{cap}第1回\t令和5年5月19日(金)\t南湊区役所\n{cap}第2回\t令和5年8月28日(月)\t桐ヶ原村役場"
    answer = compose(
        "桐ヶ原村との森林カーボン・オフセット連絡会の第1回はいつでしたか", [_hit("c1", intro, 0), _hit("c2", rows, 1)]
    )
    assert "令和5年5月19日" in answer.text.splitlines()[0]


def test_request_wording_is_not_searched_for():
    # 「Q6問い合わせ先を教えてください。」 matched every question asked as a request better than its answer
    assert expand("東都区環境審議会の会長のお名前を教えてください").strip() == "東都区環境審議会の会長のお名前"
    assert expand("証書の売り場を知りたいのですが").strip() == "証書の売り場"
    assert expand("小学校で何を教えていますか") == "小学校で何を教えていますか"  # teaching, not a request
    weights = query_weights("会長のお名前を教えてください", "会長のお名前を教えてください")
    assert "会長" in weights and not set(weights) & set(tokenize("教えてください"))


def test_a_role_asked_is_answered_by_its_holder_or_said_to_be_absent():
    assert asked_roles("東都区環境審議会の会長のお名前を教えてください") == ["会長"]
    assert asked_roles("2010年度の識者委員で副座長を務めたのは誰？") == ["副座長"]
    assert asked_roles("Who was the vice-chair in fiscal 2024?") == ["副座長", "副委員長", "副会長"]
    assert asked_roles("会長の任期は何年ですか") == []  # not a who-question
    assert holds_role(["委員長"], "共産党の志位委員長はこの発言を注意した。")
    assert holds_role(["首相"], "戦争の終盤、ウィレム・ドレースが首相を務めていた。")
    assert holds_role(["会長"], "会長に田中充氏を選出した。")
    assert not holds_role(["会長"], "会長は、改定素案について本日の意見を踏まえて修正することとした。")
    assert not holds_role(["会長"], "東都区環境審議会会長の諮問に答える。")  # a body before the role, no one
    vice = f"{ROSTER}前田 充\t新島村\t企画調整室長\t副座長"
    assert not holds_role(["座長"], vice, parse_record(vice)) and holds_role(["副座長"], vice, parse_record(vice))
    meeting = "(1)2009(平成21)年度[会議名称/日程/主な内容]第1回 自治体委員会\t2009年7月28日\t・座長、副座長の選任"
    assert not holds_role(["座長"], meeting, parse_record(meeting))  # the meeting that chose one, not the chair
    title = f"{ROSTER}須田 春海\tイクレイ日本 事務局長"
    assert holds_role(["事務局長"], title, parse_record(title))
    minutes = "会長は、改定素案について本日の意見を踏まえて修正し、次回の審議会で答申案として審議することとした。"
    header = "東都区環境審議会 第3回会議録(要旨)開催日時 令和4年11月18日(金)午後2時から"
    hits = [_hit("c1", header, 0), _hit("c2", minutes, 1)]
    answer = compose("東都区環境審議会の会長のお名前を教えてください", hits)
    assert answer.abstained and "「会長」の記述が見つかりません" in answer.note
    named = "会長に田中充氏を選出した。"
    answer = compose("東都区環境審議会の会長は誰ですか", [*hits, _hit("c3", named, 2)])
    assert not answer.abstained and answer.text.splitlines()[0].startswith(named)


def test_the_member_who_followed_another_is_the_row_that_took_over():
    table = "(3)2011(平成23)年度 自治体委員会委員[氏名/自治体名/所属・役職/備考]"
    rows = [
        f"{table}市澤 廣幸\t世田谷区\t環境総合対策室 環境計画課長\t2011(平成23)年5月18日まで",
        f"{table}坂本 雅人\t檜原村\t産業環境課 生活環境係長\t2011(平成23)年5月18日まで",
        f"{table}柳原 典子\t世田谷区\t環境総合対策室 環境計画課長\t2011(平成23)年8月31日より",
    ]
    hits = [_hit("c1", "\n".join(rows), 0)]
    answer = compose("2011年度の自治体委員会で、世田谷区の市澤廣幸委員の後を継いだのは誰ですか。", hits)
    assert "柳原 典子" in answer.text.splitlines()[0]
    assert asks_successor("後任は誰？") and is_follow_up("後任は誰？")  # someone's successor: of the member just asked
    roster = "(2)令和6年度[氏名/所属/役職/備考]"
    noted = [f"{roster}真鍋 俊介\t汐見海洋大学\t教授", f"{roster}杉本 亮\t汐見市森林組合\t参事\t宮下徹委員の後任"]
    before = "(1)令和5年度[氏名/所属/役職/備考]宮下 徹\t汐見市森林組合\t参事"
    answer = compose("令和5年度の宮下徹委員の後任は誰ですか", [_hit("c2", before, 0), _hit("c3", "\n".join(noted), 1)])
    assert "杉本 亮" in answer.text.splitlines()[0]


def test_a_rate_or_a_price_asked_next_is_of_the_previous_subject():
    first = "椿浦町の脱炭素設備導入補助金で、自家消費型太陽光発電設備の上限額はいくらですか。"
    assert is_follow_up("補助率はどうなっていますか。") and is_follow_up("代金はどうやって払うんですか？")
    assert "脱炭素設備導入補助金" in search_text("補助率はどうなっていますか。", [first])
    assert not is_follow_up("温室効果ガスの排出量は？")  # names its subject
    following = resolve_relative_years("What about the following year?", "令和5年度の委員長は誰ですか")
    assert following == "What about 2024年度?"


def test_a_time_limit_answers_when_by():
    assert holds(AnswerType.WHEN, "町は、申込みを受け付けた日から14日以内に販売決定通知書を送付します。")
    assert not holds(AnswerType.WHEN, "町は、販売決定通知書を送付します。")


def test_a_date_is_no_count_of_years_or_days():
    roster = "(2)令和6年度(2024年度)推進会議 委員名簿(令和6年度)[氏名/所属]杉本 亮\t森林組合"
    assert not counts("年", roster) and counts("年", "委員の任期は2年とし、再任を妨げません。")
    assert not counts("日", "令和4年11月18日に開催した。") and counts("日", "受け付けた日から14日以内に送付します。")


def test_a_quantity_asked_by_its_attribute_is_not_a_date_of_a_roster():
    roster = "(1)令和5年度(2023年度)推進会議 委員名簿(令和5年度)[氏名/所属/役職/備考]"
    rows = [f"{roster}千葉 和也\t町内会連合会\t副会長\t令和5年12月31日まで", f"{roster}荒木 典子\t町内会連合会\t副会長"]
    rule = "ただし、欠員が生じた場合の後任委員の任期は、前任者の残任期間とします。"
    rule += "委員の任期は2年とし、再任を妨げません。"
    assert not holds(AnswerType.AMOUNT, rows[0], parse_record(rows[0]))  # 令和5年12月31日 is a date, not 2年
    answer = compose("推進会議の委員の任期は何年ですか。", [_hit("c1", "\n".join(rows), 0), _hit("c2", rule, 1)])
    assert answer.text.splitlines()[0].startswith("委員の任期は2年とし")
