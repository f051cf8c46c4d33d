"""Evidence files are recognised by their bytes, never by their name."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from portal.services import evidence
from portal.services.evidence import EvidenceError

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b"<script>alert(2)</script></svg>")


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def office(main: str, *, macros: bool = False, types: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if types:
            archive.writestr("[Content_Types].xml", (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                'openxmlformats.org/package/2006/content-types"><Default Extension="xml" '
                'ContentType="application/xml"/><Override PartName="/word/document.xml" '
                f'ContentType="{main}"/></Types>'))
        archive.writestr("word/document.xml", "<w:document/>")
        if macros:
            archive.writestr("word/vbaProject.bin", b"\x00" * 16)
    return buffer.getvalue()


DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def ole(stream_name: str) -> bytes:
    return (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
            + stream_name.encode("utf-16-le") + b"\x00" * 512)


EML = (b"From: Li Ming <li.ming@example.com>\r\nTo: wang.lei@firm.example\r\n"
       b"Subject: =?utf-8?b?5oqV6K+J?=\r\nDate: Tue, 19 May 2026 10:00:00 +0800\r\n"
       b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>hello</body></html>\r\n")


TEXT = "text/plain; charset=utf-8"


@pytest.fixture
def detect(tmp_path):
    def run(data: bytes) -> str:
        path = tmp_path / "upload"
        path.write_bytes(data)
        return evidence.detect(path).content_type

    return run


@pytest.mark.parametrize("data, content_type", [
    (PDF, "application/pdf"),
    (png(), "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, "image/jpeg"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32, "image/webp"),
    (office(DOCX_MAIN), "application/vnd.openxmlformats-officedocument.wordprocessingml"
                        ".document"),
    (office(XLSX_MAIN), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (ole("WordDocument"), "application/msword"),
    (ole("Workbook"), "application/vnd.ms-excel"),
    (EML, "message/rfc822"),
    ("微信聊天记录：\n2026-05-20 王律师：明天回复您。\n".encode(), TEXT),
    ("投诉内容，GB18030 编码。".encode("gb18030"), "text/plain; charset=gb18030"),
])
def test_accepted_kinds(detect, data, content_type):
    assert detect(data) == content_type


@pytest.mark.parametrize("data, message", [
    (HTML, "Web pages"),
    (SVG, "Web pages"),
    (b"<svg onload=alert(1)>", "Web pages"),
    (b"  <html><a href='x'>x</a>", "Web pages"),
    (office(DOCM_MAIN, macros=True), "macros"),
    (office(DOCM_MAIN), "not accepted"),
    (office(DOCX_MAIN, types=False), "not accepted"),
    (b"PK\x03\x04 not really a zip", "not accepted"),
    (ole("\x05SummaryInformation"), "not accepted"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64, "not accepted"),
    (b"\x00\x01\x02\x03binary", "not accepted"),
    (b"", "empty"),
])
def test_refused_kinds(detect, data, message):
    with pytest.raises(EvidenceError, match=message):
        detect(data)


@pytest.mark.parametrize("name, safe", [
    ("合同.pdf", "合同.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\li\\收据.jpg", "收据.jpg"),
    ("evil\u202egpj.exe", "evilgpj.exe"),  # right-to-left override removed
    ('a"b;c\r\n.txt', "a_b_c.txt"),
    ("...", "evidence"),
    ("", "evidence"),
])
def test_safe_filenames(name, safe):
    assert evidence.safe_filename(name) == safe


def test_download_name_matches_the_content():
    item = evidence.Evidence(original_name="contract.html", content_type="application/pdf")
    assert evidence.download_name(item) == "contract.html.pdf"
    item = evidence.Evidence(original_name="photo.JPEG", content_type="image/jpeg")
    assert evidence.download_name(item) == "photo.JPEG"
    item = evidence.Evidence(original_name="notes", content_type="text/plain; charset=utf-8")
    assert evidence.download_name(item) == "notes.txt"
