"""What changed between two versions of a document: sections added, removed and changed, and within a changed
section the sentences added and removed, each with its page in both versions.

Works on the chunks of each version (what the store holds), so it needs neither the files nor a password
and reads nothing twice. Chunks overlap (~15 %); each page's text is rebuilt from its chunks' spans
(`chunk.text == page.text[start:end]`) before it is cut into sentences, so a sentence is counted once.

Compared on normalised text (NFKC, no whitespace: `basics.jatext.squash`), so a re-layout alone — lines
wrapped elsewhere, a page break moved, full-width digits, letter spacing — is not a change. Two kinds of
input need a rule of their own:
- a sentence broken by a page break arrives as two pieces (the cleaner joins broken lines within a page
  only): a piece that ends a page without a sentence end is joined to the first piece of the next page in
  the same section, unless either is a table record (a row never continues on the next page as prose);
- chapters renumbered after an inserted one (第3章 → 第4章) change the heading of every later section: a
  section that exists only in the new version is paired with one that exists only in the old when at least
  half of its sentences are found there, and reported as changed (renamed) rather than removed and added.

Cost: one pass over the chunks, then difflib on the sentence list of each section present in both (a
section is short, so this stays close to linear in the document; see the README for a 300-page figure).
Sentences moved inside a section show as removed and added; moved between sections, likewise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

from basics.jatext import sentence_spans, squash
from ingest.chunk import Chunk
from ingest.headings import heading_level

_ENDS = tuple("。!?」』)")
NO_HEADING = "（見出しなし）"


@dataclass(frozen=True)
class Sentence:
    text: str
    page: int

    @property
    def key(self) -> str:
        return squash(self.text)


@dataclass(frozen=True)
class SentenceChange:
    """A sentence added or removed; `page_from` / `page_to`: its page in the old and new version (for one that
    exists in only one of them, the page where it stood or would stand in the other)."""

    text: str
    page_from: int | None
    page_to: int | None


@dataclass(frozen=True)
class SectionChange:
    kind: str  # "added", "removed" or "changed"
    heading: str  # the heading path in the new version (the old one for a removed section)
    heading_from: str  # the heading path in the old version ("" for an added section)
    pages_from: tuple[int, ...]
    pages_to: tuple[int, ...]
    added: tuple[SentenceChange, ...] = ()
    removed: tuple[SentenceChange, ...] = ()


# --- sections of one version ------------------------------------------------------------------------
def _segments(chunks: list[Chunk]) -> list[tuple[str, int, str]]:
    """(heading path, page, text) runs rebuilt from overlapping chunks, in document order."""
    runs: list[list] = []  # [heading, page, end offset, text]
    for chunk in sorted(chunks, key=lambda c: c.id):  # ids count chunks in document order
        last = runs[-1] if runs else None
        if last and (last[0], last[1]) == (chunk.heading, chunk.page) and chunk.start <= last[2]:
            if chunk.end > last[2]:
                last[3] += chunk.text[last[2] - chunk.start :]
                last[2] = chunk.end
        else:
            runs.append([chunk.heading, chunk.page, chunk.end, chunk.text])
    return [(heading, page, text) for heading, page, _, text in runs]


def _continues(prev: Sentence, piece: Sentence) -> bool:
    """`piece`, first on its page, continues `prev`, last of the page before (see the module docstring)."""
    return (
        piece.page == prev.page + 1
        and not prev.text.endswith(_ENDS)
        and "\t" not in prev.text
        and "\t" not in piece.text
    )


def sections(chunks: list[Chunk]) -> dict[str, list[Sentence]]:
    """Heading path → its sentences (heading lines left out), sections in order of first appearance."""
    out: dict[str, list[Sentence]] = {}
    for heading, page, text in _segments(chunks):
        sentences = out.setdefault(heading or NO_HEADING, [])
        first = True  # the first piece of body text of this run (a run opens with its heading line)
        for s, e in sentence_spans(text):
            piece = Sentence(text[s:e], page)
            if heading_level(piece.text) is not None:
                continue
            if first and sentences and _continues(sentences[-1], piece):
                sentences[-1] = Sentence(sentences[-1].text + piece.text, sentences[-1].page)
            else:
                sentences.append(piece)
            first = False
    return out


# --- comparing two versions ---------------------------------------------------------------------------
def _near(sentences: list[Sentence], i: int) -> int | None:
    """The page at position i of a sentence list (the last page past its end), None for an empty list."""
    if not sentences:
        return None
    return sentences[min(i, len(sentences) - 1)].page


def _sentence_changes(old: list[Sentence], new: list[Sentence]) -> tuple[list, list]:
    added, removed = [], []
    matcher = SequenceMatcher(None, [s.key for s in old], [s.key for s in new], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            removed += [SentenceChange(s.text, s.page, _near(new, j1)) for s in old[i1:i2]]
        if op in ("insert", "replace"):
            added += [SentenceChange(s.text, _near(old, i1), s.page) for s in new[j1:j2]]
    return added, removed


def _pages(sentences: list[Sentence]) -> tuple[int, ...]:
    return tuple(sorted({s.page for s in sentences}))


def _renamed(only_old: dict[str, list[Sentence]], only_new: dict[str, list[Sentence]]) -> dict[str, str]:
    """New heading → old heading for sections found under another heading (≥ half their sentences there).

    One pass over the sentences through an index of sentence → old sections: linear, not pairwise."""
    where: dict[str, set[str]] = {}
    for heading, sentences in only_old.items():
        for s in sentences:
            where.setdefault(s.key, set()).add(heading)
    pairs, taken = {}, set()
    for heading, sentences in only_new.items():
        votes = Counter(h for s in sentences for h in where.get(s.key, ()) if h not in taken)
        if votes:
            best, shared = votes.most_common(1)[0]
            if 2 * shared >= max(len(sentences), len(only_old[best])):
                pairs[heading] = best
                taken.add(best)
    return pairs


def compare(old_chunks: list[Chunk], new_chunks: list[Chunk]) -> list[SectionChange]:
    """The sections that differ between two versions, in the new version's order, removed ones after."""
    old, new = sections(old_chunks), sections(new_chunks)
    only_old = {h: s for h, s in old.items() if h not in new}
    renamed = _renamed(only_old, {h: s for h, s in new.items() if h not in old})
    changes = []
    for heading, sentences in new.items():
        before = heading if heading in old else renamed.get(heading)
        if before is None:
            changes.append(SectionChange("added", heading, "", (), _pages(sentences)))
            continue
        added, removed = _sentence_changes(old[before], sentences)
        if added or removed or before != heading:
            pages = _pages(old[before]), _pages(sentences)
            changes.append(SectionChange("changed", heading, before, *pages, tuple(added), tuple(removed)))
    gone = set(renamed.values())
    for heading, sentences in only_old.items():
        if heading not in gone:
            changes.append(SectionChange("removed", heading, heading, _pages(sentences), ()))
    return changes
