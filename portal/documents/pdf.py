"""HTML → PDF with WeasyPrint: restricted resource fetching, one embedded CJK face, PDF/A-3b.

Facts this module relies on (measured here; see docs/architecture.md, "Measured facts"):

* WeasyPrint subsets embedded fonts with HarfBuzz's subsetter when `libharfbuzz-subset.so.0`
  (Debian: libharfbuzz-subset0) can be loaded and HarfBuzz is at least 4.1.0; otherwise it
  falls back to fontTools in pure Python (weasyprint/pdf/fonts.py `Font.subset`), which takes
  ~10 s instead of ~0.2 s for a bilingual notice. `harfbuzz_subset_available()` asks the same
  question WeasyPrint asks; a test fails when the answer is no.
* One face ("Noto Sans CJK SC", regular weight only) serves both Chinese and Latin text, so a
  notice embeds one subset font.
* WeasyPrint subsets with HB_SUBSET_FLAGS_RETAIN_GIDS: the CFF of Noto Sans CJK keeps all
  ~60,000 glyph slots, and its CharStrings INDEX becomes ~180 KB of 3-byte offsets that
  grow by one per (empty) glyph. Deflate alone cannot model a counter, so a subset costs
  ~140–190 KB. `compact_font_streams` re-encodes every embedded font program with the PNG
  "Up" predictor over 3-byte rows (FlateDecode /DecodeParms, standard since PDF 1.2 and
  allowed in PDF/A): the counters become constant differences and the font shrinks ~3×.
"""

from __future__ import annotations

import mimetypes
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pydyf
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse, path2url

from portal.documents.templating import TEMPLATES_DIR, DocumentError, render

STATIC_DIR = (TEMPLATES_DIR.parent / "static").resolve()
PDF_VARIANT = "pdf/a-3b"


class RefusedResource(ValueError):
    """A document asked for something outside static/ or a data: URI."""


class StaticOnlyFetcher(URLFetcher):
    """Serves files under the project's static/ directory and data: URIs; refuses the rest.

    Refusals are fatal (`fail_on_errors=True`): a template that reaches for the network or
    the file system stops the rendering instead of producing a silently incomplete notice.
    """

    def __init__(self, static_dir: Path = STATIC_DIR) -> None:
        super().__init__(allowed_protocols={"data"}, allow_redirects=False,
                         fail_on_errors=True)
        self.static_dir = Path(static_dir).resolve()

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self._static_path(url)
            content_type, _ = mimetypes.guess_type(path.name)
            return URLFetcherResponse(
                path2url(str(path)), path.read_bytes(),
                headers={"Content-Type": content_type or "application/octet-stream"},
            )
        raise RefusedResource(f"refused to fetch {url[:200]!r}: only static/ and data: URIs")

    def _static_path(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedResource(f"refused to fetch {url[:200]!r}: remote file URL")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            raise RefusedResource(f"refused to fetch {url[:200]!r}: not a file under static/")
        return path


def harfbuzz_subset_available() -> bool:
    """True when WeasyPrint will subset fonts with HarfBuzz rather than fontTools."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


PREDICTOR_COLUMNS = 3  # the CFF offsets are 3 bytes wide


def png_up_encode(data: bytes, columns: int = PREDICTOR_COLUMNS) -> tuple[bytes, int]:
    """PNG "Up" predictor rows (tag byte 2 + row - previous row), for FlateDecode.

    Returns the encoded bytes and the padded length of the decoded data (a whole number of
    rows; trailing zero bytes after the last table are ignored by font parsers). The
    byte-wise subtraction runs on big integers (SWAR), which takes milliseconds for 1 MB.
    """
    data = data + b"\0" * (-len(data) % columns)
    size = len(data)
    if size == 0:
        return b"", 0
    mask = (1 << (8 * size)) - 1
    high = int.from_bytes(b"\x80" * size, "big")
    current = int.from_bytes(data, "big")
    above = int.from_bytes(bytes(columns) + data[:-columns], "big")
    diff = (((current | high) - (above & ~high & mask)) ^ ((current ^ above ^ high) & high)) & mask
    rows = diff.to_bytes(size, "big")
    encoded = bytearray(size // columns * (columns + 1))
    encoded[0::columns + 1] = b"\x02" * (size // columns)
    for offset in range(columns):
        encoded[offset + 1::columns + 1] = rows[offset::columns]
    return bytes(encoded), size


def compact_font_streams(_document, pdf: pydyf.PDF) -> None:
    """WeasyPrint finisher: predictor + Flate for every embedded font program."""
    for obj in pdf.objects:
        if not isinstance(obj, pydyf.Stream):
            continue
        extra = obj.extra
        is_font = extra.get("Subtype") == "/OpenType" or "Length1" in extra
        if not is_font or "Filter" in extra:
            continue
        raw = b"".join(item if isinstance(item, bytes) else bytes(item) for item in obj.stream)
        encoded, size = png_up_encode(raw)
        obj.stream = [zlib.compress(encoded, 9)]
        obj.compress = False
        extra["Filter"] = "/FlateDecode"
        extra["DecodeParms"] = pydyf.Dictionary({
            "Predictor": 12, "Colors": 1, "BitsPerComponent": 8, "Columns": PREDICTOR_COLUMNS})
        if "Length1" in extra:
            extra["Length1"] = size


def html_to_pdf(html: str) -> bytes:
    document = HTML(string=html, base_url=path2url(str(STATIC_DIR)).rstrip("/") + "/",
                    url_fetcher=StaticOnlyFetcher())
    try:
        return document.write_pdf(pdf_variant=PDF_VARIANT, finisher=compact_font_streams)
    except FatalURLFetchingError as error:
        # BaseException in WeasyPrint; turn it into an ordinary error for callers.
        raise DocumentError(str(error.__cause__ or error)) from error


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render templates/<template_name> (under pdf/) with plain data, return PDF bytes."""
    if not template_name.startswith("pdf/"):
        template_name = f"pdf/{template_name}"
    return html_to_pdf(render(template_name, context))


def for_post(context: dict, postal_address: str | None) -> dict:
    """The same notice's context, printed for post: every notice extending
    pdf/_letter_layout.html then puts the client's name and `postal_address` in the window of a
    DL envelope on its first page. A blank address gives the emailed version back."""
    return {**context, "postal_address": (postal_address or "").strip() or None}


def render_for_post(template_name: str, context: dict, postal_address: str | None) -> bytes:
    """`render_pdf` of the print-for-post version (any notice: acknowledgement, progress,
    outcome, completion, apology)."""
    return render_pdf(template_name, for_post(context, postal_address))
