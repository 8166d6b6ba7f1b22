"""The pinned-hash check of the default model, on a small folder of our own."""

import hashlib
import json

import pytest

import index.model_files as mf
from basics.errors import ModelError


@pytest.fixture
def tiny_manifest(tmp_path, monkeypatch):
    files = {"config.json": b'{"a": 1}', "sub/weights.bin": b"\x00" * 1000}
    spec = {
        "name": "tiny",
        "package": "none",
        "wheels": {},
        "archive_folder": "model_download/",
        "files": {n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in files.items()},
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(spec))
    monkeypatch.setattr(mf, "MANIFEST", path)
    folder = tmp_path / "model"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_verify_accepts_pinned_files_and_rejects_changed_or_missing(tiny_manifest):
    mf.verify(tiny_manifest)
    (tiny_manifest / "sub/weights.bin").write_bytes(b"\x01" * 1000)  # same size, new mtime
    with pytest.raises(ModelError, match="SHA-256 mismatch"):
        mf.verify(tiny_manifest)
    (tiny_manifest / "sub/weights.bin").unlink()
    with pytest.raises(ModelError, match="missing"):
        mf.verify(tiny_manifest)


def test_pinned_manifest_covers_the_real_model():
    spec = json.loads(mf.MANIFEST.read_text()) if mf.MANIFEST.name.startswith("embedding") else None
    assert spec and len(spec["wheels"]) == 25
    assert spec["files"]["model.safetensors"]["sha256"].startswith("cbf5a78393b6")
