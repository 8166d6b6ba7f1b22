"""The tutorial pipeline, kept as a yardstick: what evaluation and benchmarks compare policyqa against."""

from __future__ import annotations

import numpy as np

from ingest.load import read_file


class TutorialBaseline:
    """What a tutorial builds: 1,000-character windows with 200 overlap over raw page text, one encode
    call, cosine top-k. No cleaning, no structure, no keyword search."""

    def __init__(self, library, embedder, size: int = 1000, overlap: int = 200):
        self.embedder = embedder
        self.windows: list[str] = []
        for record in library.store.documents():
            path = library.file_path(record)
            if path is None:
                continue
            text = "\n".join(read_file(path.read_bytes(), record.source).texts)
            step = size - overlap
            self.windows += [text[i : i + size] for i in range(0, max(1, len(text) - overlap), step)]
        self.matrix = embedder.embed_documents(self.windows) if self.windows else np.zeros((0, embedder.dim))

    def texts(self, query: str, k: int) -> list[str]:
        if not self.windows:
            return []
        sims = self.matrix @ self.embedder.embed_queries([query])[0]
        return [self.windows[i] for i in np.argsort(-sims)[:k]]
