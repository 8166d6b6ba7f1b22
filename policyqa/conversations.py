"""Kept conversations and feedback on answers: one SQLite file in the data folder, its schema and migrations.

Several app processes may share a data folder, so the file is opened in WAL mode (readers never wait for a
writer) with a busy timeout (a writer waits for another rather than failing), every write is one short
`BEGIN IMMEDIATE` transaction, and each call opens its own connection (Streamlit runs sessions in threads).
A conversation belongs to an owner (a hash of the browser's id, see policyqa.guard); every read and write of
a conversation names its owner, so one browser never sees another's. Feedback is a copy of the turn it is about
(question, what was searched, answer, citations, the settings that shaped it): it stays when its conversation
is deleted, for whoever keeps the documents. Nothing here leaves the machine.

Stores plain JSON values: the service turns answers into them and back (Service.answer_record, feedback_for).
Does not hold the answers' documents: a turn keeps its citations' text as it was shown.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from basics.errors import ErrorCode, PolicyQAError, StoreError

FILE_NAME = "conversations.sqlite3"
# Measured on this project's 2-core VM (loaded): a write (one turn, one feedback) 34 ms median, nearly all of it
# the fsync of the commit (0.8 ms on tmpfs); listing 50 of one owner's 10,000 conversations 12 ms; the newest 500
# of 20,000 feedback entries 47 ms, all 20,000 2.9 s (the admin page draws 500). One write per question or 👍/👎.
BUSY_TIMEOUT_MS = 10_000  # far beyond any one write here: 10 s of others' writes means something is wrong
TITLE_CHARS = 120  # a title (the first question, or a rename) is cut here: it is a sidebar line
COMMENT_CHARS = 2_000
LIST_LIMIT = 50  # conversations listed per owner (newest first): the sidebar stays short and the query bounded

# Why an answer was wrong (👎): code → the label shown in the app (codes go into CSV and the CLI).
REASONS = {
    "wrong_answer": "回答が誤り",
    "wrong_source": "根拠の資料が誤り",
    "not_found": "資料にあるはずなのに見つからない",
    "other": "その他",
}

# Each entry takes the schema from version i to i + 1 (PRAGMA user_version); never edit one, append.
MIGRATIONS = [
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        title TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX conversations_by_owner ON conversations (owner, updated_at);
    CREATE TABLE turns (
        conversation_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, n)
    );
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT,
        turn INTEGER,
        rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
        reasons TEXT NOT NULL DEFAULT '[]',
        comment TEXT NOT NULL DEFAULT '',
        question TEXT NOT NULL,
        history TEXT NOT NULL DEFAULT '[]',
        searched TEXT NOT NULL,
        answer TEXT NOT NULL,
        abstained INTEGER NOT NULL,
        citations TEXT NOT NULL DEFAULT '[]',
        settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '[]',
        answer_keys TEXT NOT NULL DEFAULT '[]',
        answerable INTEGER,
        marked_at TEXT,
        UNIQUE (conversation_id, turn)
    );
    CREATE INDEX feedback_by_time ON feedback (created_at);
    """,
]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Turn:
    n: int
    question: str
    answer: dict  # see answer_record


@dataclass(frozen=True)
class Feedback:
    """One 👍 / 👎 on one answer, with the answer as it was; `evidence` etc. once an admin has marked it."""

    rating: str  # "up" or "down"
    question: str
    searched: str
    answer: str
    abstained: bool
    citations: tuple[dict, ...] = ()  # n, doc_id, title, source, version, page, page_label, chunk_id, quote
    settings: dict = field(default_factory=dict)  # what shapes an answer: model, threshold, LLM on/off …
    history: tuple[str, ...] = ()  # the conversation's earlier questions (a follow-up is asked with them)
    reasons: tuple[str, ...] = ()
    comment: str = ""
    conversation_id: str | None = None
    turn: int | None = None
    id: int | None = None
    created_at: str = ""
    evidence: tuple[str, ...] = ()
    answer_keys: tuple[str, ...] = ()
    answerable: bool | None = None
    marked_at: str | None = None

    @property
    def marked(self) -> bool:
        return self.marked_at is not None


_JSON_FIELDS = ("reasons", "history", "citations", "settings", "evidence", "answer_keys")


def _feedback_from_row(row: sqlite3.Row) -> Feedback:
    values = dict(row)
    for name in _JSON_FIELDS:
        loaded = json.loads(values[name])
        values[name] = loaded if isinstance(loaded, dict) else tuple(loaded)
    values["abstained"] = bool(values["abstained"])
    values["answerable"] = None if values["answerable"] is None else bool(values["answerable"])
    return Feedback(**values)


def _bad(ja: str, en: str) -> PolicyQAError:
    return PolicyQAError(ja, en, code=ErrorCode.BAD_INPUT)


class Conversations:
    """The conversations and feedback of one data folder. Safe to share between threads and processes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise self._unavailable(sqlite3.OperationalError(str(err))) from err
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # persistent: set once, kept in the file
            self._migrate(db)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one call; SQLite's own errors (disk full, read-only, locked past the timeout) come
        out as a StoreError with both messages."""
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as err:
            raise self._unavailable(err) from err
        db.row_factory = sqlite3.Row
        try:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            yield db
        except sqlite3.Error as err:
            raise self._unavailable(err) from err
        finally:
            db.close()

    def _unavailable(self, err: sqlite3.Error) -> StoreError:
        return StoreError(
            f"会話の保存先を読み書きできません: {self.path}",
            f"cannot read or write the conversation store {self.path}: {err}",
        )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taken at once (IMMEDIATE) so it waits for another writer up front
        instead of failing halfway when a reader upgrades to a writer."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _migrate(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")  # two processes starting at once: the second sees the first's schema
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for step, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={step}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        with self._connect() as db:
            return db.execute("PRAGMA user_version").fetchone()[0]

    # --- conversations ------------------------------------------------------------------------------
    def create(self, owner: str, title: str) -> Conversation:
        """A new, empty conversation titled by its first question."""
        stamp = now()
        conversation = Conversation(secrets.token_urlsafe(12), _cut(title, TITLE_CHARS) or "（無題）", stamp, stamp)
        with self._write() as db:
            db.execute(
                "INSERT INTO conversations (id, owner, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (conversation.id, owner, conversation.title, stamp, stamp),
            )
        return conversation

    def list(self, owner: str, limit: int = LIST_LIMIT) -> list[Conversation]:
        """The owner's conversations, the most recently used first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, title, created_at, updated_at FROM conversations WHERE owner = ?"
                " ORDER BY updated_at DESC, created_at DESC LIMIT ?",
                (owner, limit),
            ).fetchall()
        return [Conversation(**dict(r)) for r in rows]

    def get(self, conversation_id: str, owner: str) -> Conversation | None:
        """The conversation if it exists and is the owner's; None otherwise (the two are not told apart)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT id, title, created_at, updated_at FROM conversations WHERE id = ? AND owner = ?",
                (conversation_id, owner),
            ).fetchone()
        return Conversation(**dict(row)) if row else None

    def rename(self, conversation_id: str, owner: str, title: str) -> Conversation:
        title = _cut(title, TITLE_CHARS)
        if not title:
            raise _bad("会話の名前が空です", "a conversation's name cannot be empty")
        with self._write() as db:
            found = db.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND owner = ?", (title, conversation_id, owner)
            ).rowcount
        if not found:
            raise self._not_found(conversation_id)
        return self.get(conversation_id, owner)

    def delete(self, conversation_id: str, owner: str) -> None:
        """The conversation and its turns. Feedback given on it stays (a copy for whoever keeps the documents),
        no longer linked to it."""
        with self._write() as db:
            found = db.execute(
                "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
            ).rowcount
            if found:
                db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
                db.execute(
                    "UPDATE feedback SET conversation_id = NULL, turn = NULL WHERE conversation_id = ?",
                    (conversation_id,),
                )
        if not found:
            raise self._not_found(conversation_id)

    @staticmethod
    def _not_found(conversation_id: str) -> PolicyQAError:
        return PolicyQAError(
            "この会話は見つかりません（削除されたか、別のブラウザーか別の利用者の会話です）",
            f"conversation {conversation_id} not found (deleted, or started in another browser)",
            code=ErrorCode.NOT_FOUND,
        )

    def add_turn(self, conversation_id: str, owner: str, question: str, answer: dict) -> int:
        """Append a question and its answer (answer_record) to the owner's conversation; returns its number."""
        stamp = now()
        with self._write() as db:
            if not db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ? AND owner = ?", (stamp, conversation_id, owner)
            ).rowcount:
                raise self._not_found(conversation_id)
            n = db.execute(
                "SELECT COALESCE(MAX(n), -1) + 1 FROM turns WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]
            db.execute(
                "INSERT INTO turns (conversation_id, n, question, answer, created_at) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, n, question, json.dumps(answer, ensure_ascii=False), stamp),
            )
        return n

    def turns(self, conversation_id: str, owner: str) -> list[Turn]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT t.n, t.question, t.answer FROM turns t JOIN conversations c ON c.id = t.conversation_id"
                " WHERE c.id = ? AND c.owner = ? ORDER BY t.n",
                (conversation_id, owner),
            ).fetchall()
        return [Turn(r["n"], r["question"], json.loads(r["answer"])) for r in rows]

    # --- feedback -----------------------------------------------------------------------------------
    def give_feedback(self, entry: Feedback) -> int:
        """Store a 👍 / 👎; giving it again for the same turn replaces the earlier one (a change of mind).
        Returns the entry's id."""
        if entry.rating not in ("up", "down"):
            raise _bad("評価は 👍 か 👎 です", f"rating must be 'up' or 'down', not {entry.rating!r}")
        unknown = [r for r in entry.reasons if r not in REASONS]
        if unknown:
            raise _bad("不明な理由があります", f"unknown reason(s) {unknown}; choose from {list(REASONS)}")
        row = asdict(entry) | {
            "created_at": now(),
            "comment": entry.comment.strip()[:COMMENT_CHARS],
            "reasons": list(entry.reasons) if entry.rating == "down" else [],
            "abstained": int(entry.abstained),
        }
        for name in ("history", "citations", "settings", "evidence", "answer_keys"):
            row[name] = list(row[name]) if isinstance(row[name], tuple) else row[name]
        columns = [c for c in row if c not in ("id", "marked_at", "answerable", "evidence", "answer_keys")]
        values = [json.dumps(row[c], ensure_ascii=False) if c in _JSON_FIELDS else row[c] for c in columns]
        # The same rating given again without reasons (the 👎 itself, sent again by a page that reran) keeps the
        # reasons and comment already given for it; a new rating starts afresh.
        same = "excluded.rating = feedback.rating AND excluded.reasons = '[]' AND excluded.comment = ''"
        updates = ", ".join(
            [f"{c} = CASE WHEN {same} THEN feedback.{c} ELSE excluded.{c} END" for c in ("reasons", "comment")]
            + [f"{c} = excluded.{c}" for c in ("rating", "created_at")]
        )
        with self._write() as db:
            return db.execute(
                f"INSERT INTO feedback ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                f" ON CONFLICT (conversation_id, turn) DO UPDATE SET {updates} RETURNING id",
                values,
            ).fetchone()[0]

    def withdraw_feedback(self, conversation_id: str, turn: int) -> None:
        """Take back the 👍 / 👎 given on a turn (the person cleared it)."""
        with self._write() as db:
            db.execute("DELETE FROM feedback WHERE conversation_id = ? AND turn = ?", (conversation_id, turn))

    def ratings(self, conversation_id: str) -> dict[int, Feedback]:
        """The feedback given on a conversation's turns, by turn number (to show it again when it is reopened)."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM feedback WHERE conversation_id = ?", (conversation_id,)).fetchall()
        return {r["turn"]: _feedback_from_row(r) for r in rows}

    def feedback(
        self,
        since: str | None = None,
        rating: str | None = None,
        reason: str | None = None,
        document: str | None = None,
        marked: bool | None = None,
        limit: int | None = None,
    ) -> list[Feedback]:
        """Feedback entries, newest first. `since`: an ISO date (YYYY-MM-DD) or time; `reason`: a REASONS code;
        `document`: a cited document's id, title or source file name; `marked`: only (un)marked entries;
        `limit`: at most this many (the newest)."""
        clauses, params = [], []
        if since:
            clauses.append("created_at >= ?")
            params.append(parse_since(since))
        if rating:
            clauses.append("rating = ?")
            params.append(rating)
        if reason:
            clauses.append("EXISTS (SELECT 1 FROM json_each(reasons) WHERE value = ?)")
            params.append(reason)
        if document:
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(citations) c WHERE ? IN"
                " (json_extract(c.value, '$.doc_id'), json_extract(c.value, '$.title'),"
                " json_extract(c.value, '$.source')))"
            )
            params.append(document)
        if marked is not None:
            clauses.append("marked_at IS NOT NULL" if marked else "marked_at IS NULL")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT * FROM feedback{where} ORDER BY created_at DESC, id DESC LIMIT ?", [*params, limit or -1]
            ).fetchall()
        return [_feedback_from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many 👍, 👎, 👎 per reason, and marked entries there are."""
        with self._connect() as db:
            out = {"up": 0, "down": 0, "marked": 0} | {r: 0 for r in REASONS}
            for rating, n in db.execute("SELECT rating, COUNT(*) FROM feedback GROUP BY rating"):
                out[rating] = n
            for reason, n in db.execute(
                "SELECT j.value, COUNT(*) FROM feedback, json_each(feedback.reasons) j GROUP BY j.value"
            ):
                out[reason] = n
            out["marked"] = db.execute("SELECT COUNT(*) FROM feedback WHERE marked_at IS NOT NULL").fetchone()[0]
        return out

    def mark(
        self, feedback_id: int, evidence: Sequence[str] = (), answer_keys: Sequence[str] = (), answerable: bool = True
    ) -> Feedback:
        """An admin's verdict on a 👎: the passage that answers it (`evidence`, text as the document has it)
        and optionally words the answer must contain, or `answerable=False` when the documents do not answer
        it (the right answer is an abstention). Marked entries become evaluation questions
        (policyqa.evaluate.questions_from_feedback)."""
        evidence = [e.strip() for e in evidence if e.strip()]
        keys = [k.strip() for k in answer_keys if k.strip()]
        if answerable and not evidence:
            raise _bad(
                "正しい根拠の箇所（資料の本文）を入力してください",
                "give the passage that answers the question (or mark it unanswerable)",
            )
        with self._write() as db:
            found = db.execute(
                "UPDATE feedback SET evidence = ?, answer_keys = ?, answerable = ?, marked_at = ? WHERE id = ?",
                (
                    json.dumps(evidence if answerable else [], ensure_ascii=False),
                    json.dumps(keys if answerable else [], ensure_ascii=False),
                    int(answerable),
                    now(),
                    feedback_id,
                ),
            ).rowcount
        if not found:
            raise PolicyQAError(
                f"フィードバック {feedback_id} は見つかりません",
                f"feedback {feedback_id} not found",
                code=ErrorCode.NOT_FOUND,
            )
        return self.entry(feedback_id)

    def entry(self, feedback_id: int) -> Feedback:
        with self._connect() as db:
            row = db.execute("SELECT * FROM feedback WHERE id = ?", (feedback_id,)).fetchone()
        return _feedback_from_row(row)

    def cited_documents(self) -> list[str]:
        """The file names (or titles) of every document that a feedback entry's answer cited, sorted."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT DISTINCT COALESCE(NULLIF(json_extract(c.value, '$.source'), ''),"
                " json_extract(c.value, '$.title')) FROM feedback, json_each(feedback.citations) c"
            ).fetchall()
        return sorted(r[0] for r in rows if r[0])


def parse_since(value: str) -> str:
    """An ISO date or time as the stored form's prefix (UTC 'YYYY-MM-DDTHH:MM:SSZ' compares as text)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise _bad(
            f"日付の形式が違います: {value}（例: 2026-11-01）", f"not a date: {value!r} (e.g. 2026-11-01)"
        ) from err
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
