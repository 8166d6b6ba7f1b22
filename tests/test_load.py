"""Load: 8 concurrent question streams for a bounded time while an ingest runs in the same store."""

import json
import random
import statistics
import threading
import time
from pathlib import Path

from policyqa.testing.pdfgen import long_pdf, sample_guideline

QUESTIONS = [
    "審査結果は何日以内に通知されますか？",
    "申請期限はいつですか？",
    "報告の期限はいつまでですか？",
    "対象となるクレジットは何ですか？",
    "規程の第120条は何を定めていますか？",
    "区役所の駐車場は何台ありますか？",
]
STREAMS, SECONDS = 8, 6.0


def test_eight_question_streams_during_an_ingest(runtime):
    with runtime.library.writing():
        runtime.library.ingest_bytes("guide.pdf", sample_guideline())
    latencies, errors, answered = [], [], [0]
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def stream(seed):
        rng = random.Random(seed)
        while time.monotonic() < stop:
            question = rng.choice(QUESTIONS)
            t0 = time.perf_counter()
            try:
                answer = runtime.ask(question)
                for c in answer.citations:  # valid: every quote is the cited passage's own text
                    assert all(c.passage[s:e] in c.quote for s, e in c.spans)
                assert answer.abstained or answer.citations
            except Exception as err:  # noqa: BLE001 — collected and asserted below
                with lock:
                    errors.append(repr(err))
                continue
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                answered[0] += 1

    threads = [threading.Thread(target=stream, args=(i,)) for i in range(STREAMS)]
    for t in threads:
        t.start()
    with runtime.library.writing():
        result = runtime.library.ingest_bytes("rules.pdf", long_pdf(300, "規程"))
    for t in threads:
        t.join()
    assert errors == []
    assert result.status == "added" and answered[0] > STREAMS
    hits = runtime.searcher.search("規程の第120条", k=3)
    assert any("第120番目" in h.chunk.text for h in hits)  # the new document is searchable right away
    figures = {
        "streams": STREAMS,
        "seconds": SECONDS,
        "answered": answered[0],
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(statistics.quantiles(latencies, n=20)[18], 1),
    }
    out = Path(__file__).parent / "artifacts"
    out.mkdir(exist_ok=True)
    (out / "load.json").write_text(json.dumps(figures))
    print(figures)
