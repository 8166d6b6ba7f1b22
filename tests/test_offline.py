"""Nothing leaves the machine: ingest, search and ask with every outbound socket refused but loopback."""

import ipaddress
import socket

import pytest

from policyqa.service import Service, load_embedder
from policyqa.settings import Settings
from policyqa.testing.pdfgen import sample_guideline

pytestmark = pytest.mark.slow


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name would need DNS: that is already outbound


def _is_ip(host) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


@pytest.fixture
def outbound_blocked(monkeypatch):
    attempts = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(real):
        def connect(self, address):
            if not _is_local(address):
                attempts.append(address)
                raise ConnectionRefusedError(f"test guard: outbound connection to {address!r} refused")
            return real(self, address)

        return connect

    def no_dns(host, *args, **kwargs):
        if host not in ("localhost", None) and not _is_ip(host):
            attempts.append(("dns", host))
            raise socket.gaierror(f"test guard: DNS lookup of {host!r} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket.socket, "connect", guard(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard(real_connect_ex))
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return attempts


def test_ingest_search_and_ask_with_outbound_network_blocked(tmp_path, outbound_blocked):
    settings = Settings.from_env({"POLICYQA_DATA_DIR": str(tmp_path / "data")})
    rt = Service(settings, load_embedder(settings))  # the real model, loaded under the guard
    with rt.library.writing():
        assert rt.library.ingest_bytes("guide.pdf", sample_guideline()).status == "added"
    assert "60日以内" in rt.searcher.search("審査結果は何日以内に通知されますか", k=3)[0].chunk.text
    answer = rt.ask("審査結果は何日以内に通知されますか？")
    assert not answer.abstained and "60日以内" in answer.text
    assert outbound_blocked == []  # nothing even tried
    # and the guard does bite (refused before any packet is sent)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    assert outbound_blocked == [("192.0.2.1", 443)]


def test_ocr_of_a_scanned_page_with_outbound_network_blocked(tmp_path, outbound_blocked, monkeypatch):
    import ingest.ocr
    from index.embedder import HashEmbedder
    from policyqa.testing.pdfgen import images_pdf, japanese_font, text_image

    font = japanese_font()
    if font is None:
        pytest.skip("no Japanese font on this machine (fc-list :lang=ja)")
    monkeypatch.setattr(ingest.ocr, "_engine", None)  # RapidOCR built under the guard, models checked again
    rt = Service(Settings.from_env({"POLICYQA_DATA_DIR": str(tmp_path / "data")}), HashEmbedder())
    scan = images_pdf([text_image(["第１章　報告", "実績は毎年六月末日までに報告します。"], font)])
    with rt.library.writing():
        assert rt.library.ingest_bytes("scan.pdf", scan).status == "added"
    assert "六月末日" in rt.searcher.search("六月末日", k=1, mode="keyword")[0].chunk.text
    assert outbound_blocked == []
