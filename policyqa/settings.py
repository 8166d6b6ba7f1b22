"""The one settings object, read from POLICYQA_* environment variables at the edge.

Library code receives plain values from it and never reads the environment itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "embeddinggemma-300m"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _limit(value: str | None, default: float) -> float | None:
    """A positive limit; unset means the default, 0 means no limit."""
    number = float(value) if value and value.strip() else default
    return number if number > 0 else None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    cache_dir: Path
    embed_model: str
    chroma_url: str | None
    device: str
    precision: str
    chunk_chars: int
    upload_limit_mb: int
    read_only: bool
    admin_password: str | None
    min_similarity: float | None
    llm_url: str | None = None
    llm_model: str = "local"
    llm_api_key: str | None = None
    llm_timeout_s: float = 60.0
    embed_dim: int | None = None
    disk_margin_mb: int = 64  # free space kept beyond an ingest's estimated need (see index.space)
    users_file: Path | None = None  # POLICYQA_USERS: sign-in and per-user conversations (policyqa.users)
    shared_dir: Path = Path("..") / "shared"  # the project's shared folder: dev set and external benchmarks
    ingest_max_work_mb: float | None = 32.0  # content the pages of one file may draw in all (ingest.budget)
    ingest_max_seconds: float | None = 300.0  # wall time to read one file
    ocr: bool = True  # read PDF pages without a usable text layer by OCR

    @property
    def dev_qa_path(self) -> Path:
        return self.shared_dir / "eval" / "dev_qa.jsonl"

    @property
    def jsquad_path(self) -> Path:
        return self.shared_dir / "datasets" / "jsquad" / "valid-v1.3.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        cache = env.get("POLICYQA_CACHE_DIR") or str(Path.home() / ".cache" / "policyqa")
        return cls(
            data_dir=Path(env.get("POLICYQA_DATA_DIR") or "data").expanduser(),
            cache_dir=Path(cache).expanduser(),
            embed_model=env.get("POLICYQA_EMBED_MODEL") or DEFAULT_MODEL,
            chroma_url=env.get("POLICYQA_CHROMA_URL") or None,
            device=env.get("POLICYQA_DEVICE") or "cpu",
            precision=env.get("POLICYQA_PRECISION") or "auto",
            chunk_chars=int(env.get("POLICYQA_CHUNK_CHARS") or 400),
            upload_limit_mb=int(env.get("POLICYQA_UPLOAD_LIMIT_MB") or 50),
            read_only=_flag(env.get("POLICYQA_READ_ONLY")),
            admin_password=env.get("POLICYQA_ADMIN_PASSWORD") or None,
            min_similarity=float(env["POLICYQA_MIN_SIMILARITY"]) if env.get("POLICYQA_MIN_SIMILARITY") else None,
            llm_url=env.get("POLICYQA_LLM_URL") or None,
            llm_model=env.get("POLICYQA_LLM_MODEL") or "local",
            llm_api_key=env.get("POLICYQA_LLM_API_KEY") or None,
            llm_timeout_s=float(env.get("POLICYQA_LLM_TIMEOUT") or 60),
            embed_dim=int(env["POLICYQA_EMBED_DIM"]) if env.get("POLICYQA_EMBED_DIM") else None,
            disk_margin_mb=int(env.get("POLICYQA_DISK_MARGIN_MB") or 64),
            users_file=Path(env["POLICYQA_USERS"]).expanduser() if env.get("POLICYQA_USERS") else None,
            shared_dir=Path(env.get("POLICYQA_SHARED_DIR") or Path("..") / "shared").expanduser(),
            ingest_max_work_mb=_limit(env.get("POLICYQA_INGEST_MAX_WORK_MB"), 32.0),
            ingest_max_seconds=_limit(env.get("POLICYQA_INGEST_MAX_SECONDS"), 300.0),
            ocr=(env.get("POLICYQA_OCR") or "1").strip().lower() not in {"0", "false", "no", "off"},
        )
