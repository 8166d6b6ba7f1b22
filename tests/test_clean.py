from ingest.clean import clean_pages, fix_spaces, join_lines, normalize, running_lines


def test_normalize_keeps_circled_numbers_and_folds_width():
    assert normalize("①市場流通型　ＪＶＥＲ２０１０〜") == "①市場流通型 JVER2010~"
    assert normalize("㈱テスト") == "(株)テスト"


def test_spaces_between_japanese_and_digits_are_removed_but_table_cells_kept():
    assert fix_spaces("2011(平成 23) 年 5 月 18 日") == "2011(平成23)年5月18日"
    assert fix_spaces("木村 純一  新宿区  環境対策課長") == "木村 純一 新宿区 環境対策課長"
    assert fix_spaces("政策科学研究科教授 、法政大学") == "政策科学研究科教授、法政大学"


def test_letter_spaced_text_is_undone():
    assert fix_spaces("カ ー ボ ン 単 位") == "カーボン単位"


def test_broken_lines_join_but_headings_lists_and_table_rows_do_not():
    lines = [
        "この指針は、区市町村が実施するカーボン・オフセットの手続を定めるもので",
        "あり、取組を促進します。",
        "・次の行は箇条書きです",
        "今福 芳明 港区 環境課長 座長",
        "木村 純一 新宿区 環境対策課長",
    ]
    out = join_lines(lines)
    assert out[0] == "この指針は、区市町村が実施するカーボン・オフセットの手続を定めるものであり、取組を促進します。"
    assert out[1:] == lines[2:]


def test_join_across_one_blank_line():
    out = join_lines(["地球温暖化対策基本法案を閣議決定し、国会に", "", "提出しました。"])
    assert out == ["地球温暖化対策基本法案を閣議決定し、国会に提出しました。"]


def test_running_header_and_page_number_footer_are_dropped():
    pages = [f"報告書 添付資料\n本文{i}の内容です。\n資料－{i}" for i in range(1, 6)]
    cleaned = clean_pages(pages, [str(i) for i in range(1, 6)])
    assert cleaned == [f"本文{i}の内容です。" for i in range(1, 6)]


def test_bare_number_line_is_kept_unless_it_is_the_page_number():
    pages = ["表題\n2011\n一頁目です。\n1", "表題\n二頁目です。\n2", "表題\n三頁目です。\n3"]
    cleaned = clean_pages(pages, ["1", "2", "3"])
    assert cleaned == ["2011\n一頁目です。", "二頁目です。", "三頁目です。"]


def test_running_lines_need_three_pages():
    assert running_lines([["見出し"], ["見出し"]]) == set()


def test_latin_runs_keep_a_space_when_joined():
    out = join_lines(["The offset credits were issued under the J-VER scheme for", "forest management in 2010."])
    assert out == ["The offset credits were issued under the J-VER scheme for forest management in 2010."]


def test_joining_a_long_paragraph_is_linear():
    """One paragraph broken into many lines: 1 M characters took 3.1 s and 2 M 13.2 s (each join copied and
    searched the growing line). No clock limit on a shared machine: 4x the lines must take well under 16x."""
    import time

    line = "カーボン・オフセットの取組について説明する文章の途中で改行された行"

    def best_of_three(n_lines: int) -> float:
        lines = [line] * n_lines
        times = []
        for _ in range(3):
            start = time.perf_counter()
            (joined,) = join_lines(lines)
            times.append(time.perf_counter() - start)
        assert len(joined) == len(line) * n_lines
        return min(times)

    small, large = best_of_three(3_000), best_of_three(12_000)  # about 100 k and 400 k characters
    assert large < 8 * small, (small, large)


def test_a_numbered_step_wrapped_by_the_page_joins_its_next_line():
    first = "2.町は、申込みを受け付けた日から14日以内に、販売量及び金額を記載した販売"
    assert join_lines([first, "決定通知書を申込者に送付します。"]) == [f"{first}決定通知書を申込者に送付します。"]
