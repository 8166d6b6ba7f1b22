"""Tables as records: each row of a table becomes one line that can be found, quoted and cited on its own.

    page_texts(reader) -> list[str]

Per page, pypdf's plain text with the lines of each detected table (ingest.layout) replaced, where the
table stood, by one record per row:

    <caption> [<column>/<column>/...] <cell>\t<cell>\t...

e.g. `(1)2009(平成21)年度 自治体委員会委員 [氏名/自治体名/所属・役職/備考] 今福 芳明⇥港区⇥…⇥座長`.
The caption (the headings above the table, kept across pages) and the column names make a row
self-contained; the cells stay in reading order, separated by tabs, so the row reads as the printed row
does (an evidence string copied from the printed table is still a substring once whitespace is removed)
and `parse_record` can tell the columns apart. A year written once above a run of dates is carried into
the rows below it; a table that continues on the next page keeps its caption and column names.
A page without a detected table, or any error, gives exactly `extract_text()`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from basics.jatext import sentence_spans
from ingest.layout import Table, collect, ruled_tables, unruled_tables

_MONTH_ONLY = re.compile(r"^\s*[0-9０-９]{1,2}\s*月")
_YEAR_PREFIX = re.compile(
    r"^\s*((?:[0-9０-９]{4}|(?:平成|令和|昭和)\s*[0-9０-９元]{1,2})\s*(?:[（(〔][^）)〕]{0,12}[）)〕]\s*)?年)"
)
_L0 = re.compile(
    r"^\s*(?:(?:添付資料|別添|別紙|参考資料|付属資料|附属資料)\s*[0-9０-９]+|第\s*[0-9０-９一二三四五六七八九十]+\s*[章編部])"
)
_L1 = re.compile(r"^\s*(?:[（(][0-9０-９一二三四五六七八九十]{1,3}[）)]|第\s*[0-9０-９一二三四五六七八九十]+\s*節)")
_L1_NUM = re.compile(r"^[0-9０-９]{1,2}(?:[\u3000 ]|[.．](?![0-9０-９]))\s*\S")  # "１　これまでの主な取組"
_L2 = re.compile(r"^\s*(?:[●■◆◇□▼▲◎]|[①-⑳]|＜[^＞]{1,30}＞\s*$|【[^】]{1,30}】\s*$)")
RECORD_MARK = "\u25b6"  # ▶ starts a record line in extracted text; cleaning removes it (ingest.clean)
CELL_SEP = "\t"
_RECORD = re.compile(r"^(?P<caption>.*?)\s?\[(?P<columns>[^\]\t]*)\]\s?(?P<cells>.*\t.*)$")


@dataclass(frozen=True)
class Record:
    caption: str
    columns: tuple[str, ...]
    cells: tuple[str, ...]

    def cell(self, *names: str) -> str:
        """The first non-empty cell whose column name contains one of `names`."""
        for col, value in zip(self.columns, self.cells, strict=False):
            if value and any(n in col for n in names):
                return value
        return ""


def text_units(text: str, base: int = 0) -> list[tuple[int, int]]:
    """Spans of sentences, except that a table record is one unit however many 。 its cells hold: what
    chunks are packed from and what an answer quotes."""
    spans, pos = [], 0
    for line in text.split("\n"):
        if CELL_SEP in line and line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((base + pos + lead, base + pos + len(line.rstrip())))
        else:
            spans += sentence_spans(line, base + pos)
        pos += len(line) + 1
    return spans


def parse_record(line: str) -> Record | None:
    """A cleaned record line as caption, column names and cells; None for any other line."""
    if CELL_SEP not in line:
        return None
    m = _RECORD.match(line.strip())
    if not m:
        return None
    columns = tuple(c.strip() for c in m.group("columns").split("/"))
    return Record(m.group("caption").strip(), columns, tuple(c.strip() for c in m.group("cells").split(CELL_SEP)))


# ----------------------------------------------------------------------------------------------
# captions, records and page assembly


def _heading_level(line: str):
    s = line.strip()
    if not s or len(s) > 60 or s.endswith("。"):
        return None
    if _L0.match(s):
        return 0
    if _L1.match(s) or (len(s) <= 30 and _L1_NUM.match(s)):
        return 1
    if _L2.match(s) and len(s) <= 45:
        return 2
    return None


def _clean_caption(s: str) -> str:
    s = re.sub(r"^[●■◆◇□▼▲◎]\s*", "", s.strip())
    return re.sub(r"\s+", " ", s)


def _header_name(h: str, k: int) -> str:
    h = re.sub(r"\s+", " ", h).strip()
    # letter-spaced CJK header words: "氏 名" -> "氏名"
    h = re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", h)
    return h or f"列{k + 1}"


def _carry_years(tb: Table):
    """A year written once at the top of a run of dates ("2009 (平成 21)年 ７月 28 日", then "８月 24 日")
    applies to the following month-only cells of the same column."""
    ncol = len(tb.header)
    for c in range(ncol):
        year = None
        for row in tb.rows:
            if c >= len(row) or not row[c]:
                continue
            m = _YEAR_PREFIX.match(row[c])
            if m:
                year = m.group(1)
            elif year and _MONTH_ONLY.match(row[c]):
                row[c] = f"{year} {row[c].strip()}"


def _records(tb: Table) -> list[str]:
    names = [_header_name(h, k).replace("/", "・") for k, h in enumerate(tb.header)]
    out = []
    for row in tb.rows:
        cells = [re.sub(r"\s+", " ", v or "").strip() for v in row[: len(names)]]
        while cells and not cells[-1]:
            cells.pop()
        if not any(cells):
            continue
        head = f"{tb.caption} [{'/'.join(names)}] " if tb.caption else f"[{'/'.join(names)}] "
        out.append(RECORD_MARK + head + CELL_SEP.join(cells) + (CELL_SEP if len(cells) == 1 else ""))
    return out


@dataclass
class _State:
    outline: list = field(default_factory=lambda: [None, None, None])
    last_table: Table | None = None
    last_table_ends_page: bool = False
    running: set = field(default_factory=set)  # running header/footer lines (digits masked)


def _mask(s: str) -> str:
    return re.sub(r"[0-9０-９]+", "#", re.sub(r"\s+", "", s))


@dataclass
class _Page:
    text: str
    tables: list = field(default_factory=list)
    line_tables: list = field(default_factory=list)  # per output line: table index or None


def _analyse(page) -> _Page:
    text, runs, hsegs, vsegs, fills = collect(page)
    if "".join(r.text for r in runs) != text:
        return _Page(text)
    tables = ruled_tables(runs, hsegs, vsegs)
    taken = set()
    for tb in tables:
        taken |= tb.runs
    tables += unruled_tables(runs, taken)
    if not tables:
        return _Page(text)
    lines = text.split("\n")
    starts, pos = [], 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln) + 1
    owner = {}
    for k, tb in enumerate(tables):
        for i in tb.runs:
            owner[i] = k
    line_tables: list[set] = [set() for _ in lines]
    line_other = [False] * len(lines)
    for r in runs:
        if r.blank or not r.text.strip():
            continue
        a = bisect.bisect_right(starts, r.start) - 1
        b = bisect.bisect_right(starts, max(r.start, r.end - 1)) - 1
        for li in range(a, b + 1):
            if r.idx in owner:
                line_tables[li].add(owner[r.idx])
            else:
                line_other[li] = True
    # a table must own whole lines; one sharing a line with other text is dropped (conservative)
    bad = set()
    for li in range(len(lines)):
        if line_tables[li] and (line_other[li] or len(line_tables[li]) > 1):
            bad |= line_tables[li]
    lt = [None] * len(lines)
    for li in range(len(lines)):
        ks = line_tables[li] - bad
        if ks:
            lt[li] = next(iter(ks))
    if all(x is None for x in lt):
        return _Page(text)
    return _Page(text, tables, lt)


def _assemble(pg: _Page, state: _State) -> str:
    lines = pg.text.split("\n")
    if not pg.tables:
        _update_outline(lines, state)
        if any(ln.strip() and _mask(ln) not in state.running for ln in lines):
            state.last_table_ends_page = False
        return pg.text
    out: list[str] = []
    emitted = set()
    first_content_seen = False
    prev_lines: list[str] = []
    for li, ln in enumerate(lines):
        k = pg.line_tables[li]
        if k is not None:
            if k not in emitted:
                emitted.add(k)
                tb = pg.tables[k]
                cont = (
                    not first_content_seen
                    and state.last_table is not None
                    and state.last_table_ends_page
                    and _continues(state.last_table, tb)
                )
                if cont:
                    prevt = state.last_table
                    names = [_header_name(h, i) for i, h in enumerate(tb.header)]
                    if names != [_header_name(h, i) for i, h in enumerate(prevt.header)]:
                        tb.rows = [tb.header] + tb.rows  # no repeated header: first row is data
                    tb.header = prevt.header
                    tb.caption = prevt.caption
                else:
                    tb.caption = _caption(state, prev_lines)
                _carry_years(tb)
                out.extend(_records(tb))
                state.last_table = tb
                state.last_table_ends_page = True
                first_content_seen = True
            continue
        out.append(ln)
        s = ln.strip()
        if s and _mask(s) not in state.running:
            first_content_seen = True
            state.last_table_ends_page = False
            _update_outline([s], state)
            prev_lines.append(s)
    return "\n".join(out)


def _continues(prev: Table, tb: Table) -> bool:
    if len(prev.header) != len(tb.header):
        return False
    if prev.xs and tb.xs and len(prev.xs) == len(tb.xs):
        return all(abs(a - b) < 6 for a, b in zip(prev.xs, tb.xs, strict=False))
    return not prev.xs and not tb.xs


def _caption(state: _State, prev_lines: list[str]) -> str:
    # the section and table titles; the appendix title (level 0) only when there is nothing nearer
    parts = [p for p in state.outline[1:] if p] or [p for p in state.outline[:1] if p]
    title = prev_lines[-1] if prev_lines else None
    if title and title not in parts and _heading_level(title) is None:
        if len(title) <= 40 and not title.endswith(("。", "、")) and not title.startswith("※"):
            # a short plain line right above the table names it; it replaces an older level-2 title
            parts = [p for p in state.outline[:2] if p] + [title]
    out: list[str] = []
    for p in (_clean_caption(p) for p in parts):
        core = re.sub(r"^[（(][^）)]{1,3}[）)]\s*", "", p)
        if any(core and core in q for q in out):
            continue  # "（２）取り組み" then "●取り組み": say it once
        out.append(p)
    return " ".join(out)


def _update_outline(lines, state: _State):
    for ln in lines:
        s = ln.strip()
        if not s or _mask(s) in state.running:
            continue
        lvl = _heading_level(s)
        if lvl is not None:
            state.outline[lvl] = s
            for j in range(lvl + 1, 3):
                state.outline[j] = None


def _running_lines(texts: list[str]) -> set:
    """First/last lines repeated (digits masked) on at least half of the pages (>= 2)."""
    if len(texts) < 2:
        return set()
    count: dict[str, int] = {}
    for t in texts:
        ls = [ln for ln in t.split("\n") if ln.strip()]
        for ln in set(ls[:1] + ls[-1:]):
            m = _mask(ln)
            count[m] = count.get(m, 0) + 1
    need = max(2, len(texts) // 2)
    return {m for m, c in count.items() if c >= need}


def page_texts(reader, before_page: Callable[[int], None] | None = None) -> list[str]:
    """Per page: the plain extract_text() output with table regions replaced by record lines. `before_page(i)`
    is called before page i is analysed and may raise to stop (the reading budget, ingest.budget)."""
    analysed: list[_Page | None] = []
    for i, page in enumerate(reader.pages):
        if before_page:
            before_page(i)
        try:
            analysed.append(_analyse(page))
        except Exception:
            try:
                analysed.append(_Page(page.extract_text()))
            except Exception:
                analysed.append(_Page(""))
    state = _State(running=_running_lines([p.text for p in analysed]))
    out = []
    for pg in analysed:
        try:
            out.append(_assemble(pg, state))
        except Exception:
            out.append(pg.text)
            state.last_table = None
    return out
