"""Previews of evidence: page 1 of a PDF (poppler's `pdftoppm`) or a downscaled image
(Pillow) as a PNG the portal renders itself, and the first lines of a text file.

A preview is cached on disk under its file's SHA-256 (PREVIEW_DIR, by default
`<INSTANCE_DATA_DIR or instance>/previews`), so the same content is rendered once whatever
the number of items or complaints naming it. Rendering reads only the file: callers run it
with no database transaction open. A file that cannot be rendered (damaged, too large,
a timeout) leaves a `.failed` marker beside the cache, so it is not tried on every view.
The evidence itself is never shown inline: the PNG is a new image drawn from it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps

from portal.services.evidence import GIF, JPEG, PDF, PNG, TEXT, TEXT_GB18030, WEBP

log = logging.getLogger(__name__)

SIZE = 900  # the longer side of a preview, in pixels
MAX_SOURCE_PIXELS = 60_000_000  # larger images are not decoded (a decompression bomb)
TIMEOUT_SECONDS = 20
MEMORY_LIMIT = 1024 * 1024 * 1024  # pdftoppm's address space, when prlimit is available
TEXT_BYTES, TEXT_LINES, LINE_MAX = 4096, 8, 160

IMAGE_TYPES = frozenset(kind.content_type for kind in (JPEG, PNG, GIF, WEBP))
TEXT_TYPES = {TEXT.content_type: "utf-8-sig", TEXT_GB18030.content_type: "gb18030"}

IMAGE, TEXT_LINES_KIND, NONE = "image", "text", "none"


class PreviewFailed(Exception):
    """The file could not be drawn (damaged, too large, too slow)."""


def kind_of(content_type: str) -> str:
    """What preview a type gets: a rendered image, its first lines, or none."""
    if content_type == PDF.content_type or content_type in IMAGE_TYPES:
        return IMAGE
    if content_type in TEXT_TYPES:
        return TEXT_LINES_KIND
    return NONE


def preview_dir() -> Path:
    config = current_app.config
    configured = config.get("PREVIEW_DIR")
    if configured:
        directory = Path(configured)
    else:
        base = config.get("INSTANCE_DATA_DIR") or current_app.instance_path
        directory = Path(base) / "previews"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def _checked(sha256: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise PreviewFailed("not a SHA-256")
    return sha256


def cached(sha256: str) -> Path:
    return preview_dir() / f"{_checked(sha256)}.png"


def _marker(sha256: str) -> Path:
    return preview_dir() / f"{_checked(sha256)}.failed"


def has_failed(sha256: str) -> bool:
    """Whether rendering this content failed before (the page then says so)."""
    return _marker(sha256).exists()


def render(source: Path, content_type: str, sha256: str) -> Path | None:
    """The PNG preview of `source`, rendered now unless cached; None when it cannot be."""
    target = cached(sha256)
    if target.exists():
        return target
    if has_failed(sha256) or kind_of(content_type) != IMAGE:
        return None
    try:
        data = _pdf_png(source) if content_type == PDF.content_type else _image_png(source)
    except PreviewFailed as error:
        log.warning("no preview for %s: %s", sha256[:16], error)
        _marker(sha256).touch()
        return None
    except RuntimeError as error:  # the set-up, not the file: tried again next time
        log.error("no preview for %s: %s", sha256[:16], error)
        return None
    _write_atomically(target, data)
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    """Two requests rendering the same file both end with one complete PNG."""
    descriptor, scratch = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)


def _pdf_png(source: Path) -> bytes:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:  # not the file's fault: no marker, so it is tried again once installed
        raise RuntimeError("pdftoppm (poppler-utils) is not installed")
    command = [pdftoppm, "-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to", str(SIZE)]
    prlimit = shutil.which("prlimit")
    if prlimit:  # an untrusted PDF gets bounded memory and CPU time
        command = [prlimit, f"--as={MEMORY_LIMIT}", f"--cpu={TIMEOUT_SECONDS}", *command]
    with tempfile.TemporaryDirectory(dir=preview_dir()) as scratch:
        output = Path(scratch) / "page"
        try:
            subprocess.run([*command, str(source), str(output)], check=True,  # noqa: S603
                           capture_output=True, timeout=TIMEOUT_SECONDS)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            raise PreviewFailed(f"pdftoppm: {type(error).__name__}") from None
        page = output.with_suffix(".png")
        if not page.is_file():
            raise PreviewFailed("pdftoppm wrote no page")
        return page.read_bytes()


def _image_png(source: Path) -> bytes:
    import io

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                if image.width * image.height > MAX_SOURCE_PIXELS:
                    raise PreviewFailed("image too large")
                image.draft("RGB", (SIZE, SIZE))  # JPEG: decode at a smaller scale
                shown = ImageOps.exif_transpose(image)
                shown.thumbnail((SIZE, SIZE))
                if shown.mode not in ("RGB", "RGBA", "L", "LA"):
                    shown = shown.convert("RGBA")
                out = io.BytesIO()
                shown.save(out, format="PNG")
                return out.getvalue()
    except PreviewFailed:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:
        raise PreviewFailed(f"image: {type(error).__name__}") from None


def first_lines(source: Path, content_type: str) -> list[str]:
    """The first lines of a text file, as the page shows them (escaped by the template)."""
    encoding = TEXT_TYPES.get(content_type)
    if encoding is None:
        return []
    try:
        with open(source, "rb") as handle:
            data = handle.read(TEXT_BYTES + 1)
    except OSError:
        return []
    cut = len(data) > TEXT_BYTES
    text = data[:TEXT_BYTES].decode(encoding, errors="replace")
    lines = text.splitlines()
    if cut and lines:
        lines = lines[:-1] or [lines[0].rstrip("\ufffd")]  # the last line may be cut short
    shown = [line if len(line) <= LINE_MAX else line[: LINE_MAX - 1] + "…"
             for line in lines[:TEXT_LINES]]
    while shown and not shown[-1].strip():
        shown.pop()
    return shown
