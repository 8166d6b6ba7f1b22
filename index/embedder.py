"""Embedders: the real sentence-transformers model, and a small deterministic one for fast tests.

Both implement the same interface (`model_id`, `dim`, `embed_documents`, `embed_queries`) and return
L2-normalised float32 rows, so Chroma's cosine space and our fusion see the same numbers either way.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from basics.errors import ModelError
from basics.jatext import squash

# Abstain when the best passage's cosine similarity to the question is below this. On the dev set
# (EmbeddingGemma, 2026-11-28) answerable questions scored 0.456–0.718 at best, the unanswerable one 0.288
# and off-topic probes ≤ 0.29; 0.38 sits in the gap with margin on both sides.
EMBEDDINGGEMMA_MIN_SIMILARITY = 0.38
# See the Embedder protocol. Measured on eval/verify_threshold.md's labelled set (230 claims): within Japanese,
# invented claims that keep most of a passage's words reached 0.775 (「J-クレジット制度は2013年度に廃止されました」
# against 「…2013年度から国が運営しています」), so 0.80. Across languages, English paraphrases of Japanese
# passages scored 0.636-0.815 (median 0.740) and English invented claims up to 0.687 (0.701 for an opposite the
# negation check rejects), so 0.74: 6 of 11 paraphrases accepted, the rest fall back to the extractive answer.
EMBEDDINGGEMMA_SUPPORT_SIMILARITY = 0.80
EMBEDDINGGEMMA_SUPPORT_SIMILARITY_ACROSS = 0.74

# Set before sentence-transformers / huggingface_hub are imported anywhere: no hub contact, ever.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def set_offline_env() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


class Embedder(Protocol):
    model_id: str
    dim: int
    # Below this best cosine similarity the answerer abstains: a property of the model's similarity scale.
    min_similarity: float
    # From this cosine similarity on, a generated sentence counts as said by its closest evidence sentence (when
    # its words alone do not settle it; answer/verify.py), within one language and across two. Measured per
    # embedder: eval/verify_threshold.md.
    support_similarity: float
    support_similarity_across: float

    def embed_documents(self, texts: list[str], title: str | None = None) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder (or a hub name already in the local cache).

    Uses the model's own query / document prompts (EmbeddingGemma: "task: search result | query: " and
    "title: none | text: "). The heavy import happens on construction, never at module import.
    """

    # Measured on the sample report (40 chunks, 2 cores with native bf16): fp32 batch 16 20.0 s, bf16 batch 16
    # 10.4 s, bf16 batch 8 9.2 s (2.2×); bf16 vectors have cosine ≥ 0.998 to fp32 ones. Without native bf16
    # (AVX2 or plain AVX512) bf16 is emulated and 2.6× *slower* than fp32: "auto" picks by the CPU.
    def __init__(
        self,
        name_or_path: str,
        device: str = "cpu",
        batch_size: int = 8,
        min_similarity: float = EMBEDDINGGEMMA_MIN_SIMILARITY,
        precision: str = "auto",
        dim: int | None = None,
        progress: bool = False,
    ):
        set_offline_env()
        try:
            if not progress:  # one line from the caller instead of a 314-step "Loading weights" bar
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()
            from sentence_transformers import SentenceTransformer
        except ImportError as err:  # pragma: no cover - broken install
            raise ModelError("埋め込みモデルのライブラリがありません", f"sentence-transformers missing: {err}") from err
        device = _resolve_device(device)
        try:
            # `dim`: Matryoshka truncation (EmbeddingGemma: 512/256/128). Measured at 256 on the evaluation set:
            # recall@5 unchanged, recall@1 -2.1 and MRR -1.1 points; Chroma query p50 8.8 vs 9.4 ms and disk 825
            # vs 1,021 MB at 100k chunks (bench/matryoshka.py). Full size stays the default.
            self.model = SentenceTransformer(str(name_or_path), device=device, local_files_only=True, truncate_dim=dim)
        except Exception as err:  # noqa: BLE001 — hub, OS and format errors all mean "cannot load"
            raise ModelError(
                f"埋め込みモデルを読み込めません: {name_or_path}",
                f"cannot load embedding model {name_or_path!r} (offline; give a local folder or a cached "
                f"model): {type(err).__name__}: {err}",
            ) from err
        if precision == "auto":
            precision = "bf16" if device == "cpu" and cpu_has_native_bf16() else "fp32"
        if precision == "bf16":
            import torch

            self.model.to(torch.bfloat16)
        elif precision != "fp32":
            raise ModelError(
                "精度の指定が不正です（auto・bf16・fp32）", f"unknown precision {precision!r}: use auto, bf16 or fp32"
            )
        self.precision = precision
        self.model_id = Path(str(name_or_path)).name or str(name_or_path)
        if dim:  # a store of truncated vectors is another model's store: mixing them is refused
            self.model_id = f"{self.model_id}@{dim}"
        # Calibrated for EmbeddingGemma on the dev set (see answer/extractive.py); other models keep it
        # unless POLICYQA_MIN_SIMILARITY says otherwise.
        self.min_similarity = min_similarity
        self.support_similarity = EMBEDDINGGEMMA_SUPPORT_SIMILARITY
        self.support_similarity_across = EMBEDDINGGEMMA_SUPPORT_SIMILARITY_ACROSS
        self.dim = int(self.model.get_embedding_dimension())
        self.batch_size = batch_size

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            texts, prompt=prompt, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_documents(self, texts: list[str], title: str | None = None) -> np.ndarray:
        """Document embeddings. EmbeddingGemma's document prompt has a title slot ("title: none | text: "):
        the document's title goes there; for other models it is prepended to each text."""
        prompt = self.model.prompts.get("document", "")
        if title and "title: none" in prompt:
            prompt = prompt.replace("title: none", f"title: {title}")
        elif title:
            texts = [f"{title}\n{t}" for t in texts]
        return self._encode(texts, prompt)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.model.prompts.get("query", ""))


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes in bfloat16 natively (AVX512_BF16 or AMX), read from /proc/cpuinfo's flags.

    Elsewhere torch emulates bf16 matrix products: on a 2-core AVX512 Xeon the sample report took 55.5 s in bf16
    against 21.7 s in fp32. Not Linux (no /proc/cpuinfo): False, fp32 is never the slow choice."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    flags = {f for line in cpuinfo.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# POLICYQA_EMBED_MODEL value that selects the model-free embedder below (tests, demos of the plumbing).
HASH_MODEL = "policyqa-hash"


class HashEmbedder:
    """Deterministic character-bigram hashing embedder for unit tests: texts sharing bigrams are close.

    A real implementation of the interface (no model, no randomness), not a semantic model.
    """

    model_id = HASH_MODEL
    min_similarity = 0.05  # bigram-overlap cosines are small; unrelated text scores ~0
    # Bigram overlap is not meaning: set above every unsupported claim of eval/verify_threshold.md's set (≤ 0.593)
    # and every cross-language pair (≤ 0.297), so that with it words alone decide in practice, while the fast
    # tests run the same code path as the real model.
    support_similarity = 0.80
    support_similarity_across = 0.80

    def __init__(self, dim: int = 256):
        self.dim = dim

    def _one(self, text: str) -> np.ndarray:
        text = squash(text).replace("・", "")
        vec = np.zeros(self.dim, dtype=np.float32)
        grams = [text[i : i + 2] for i in range(max(1, len(text) - 1))]
        for gram in grams:
            digest = hashlib.blake2b(gram.encode(), digest_size=4).digest()
            vec[int.from_bytes(digest, "little") % self.dim] += 1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def embed_documents(self, texts: list[str], title: str | None = None) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_documents(texts)
