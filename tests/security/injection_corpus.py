"""The injection corpus: hostile text for every text field and upload name, and the checks
that say whether any of it became active content, a header, a file outside the evidence
folder or a resource WeasyPrint fetched.

Why these checks and not a string search: an escaped payload still *contains* its markers
(`alert(1)` is plain text on the page), so searching the page for them proves nothing. The
checks parse what the portal answered, the way a browser would, and look at what the parser
made of it: elements and attributes that no template writes (`<script>` without a static
`src`, `on*`, `hx-on*`, `style`, `javascript:` URLs), and every element a payload would
create if it were pasted unescaped (its "signature"). Each checker has a test feeding it a
bad sample, so a checker that sees nothing cannot pass silently.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
from bs4.element import Tag
from pypdf import PdfReader

# -- the payloads ------------------------------------------------------------------------------

LEAK_PLACEHOLDER = "LEAKBASE"  # replaced by the local server's http://127.0.0.1:<port>


@dataclass(frozen=True)
class Payload:
    """One hostile value. `single_line` says whether it fits a one-line field as typed."""

    name: str
    text: str

    @property
    def single_line(self) -> bool:
        return "\n" not in self.text and "\r" not in self.text


_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("script", "<script>alert(1)</script>"),
    ("img_onerror", "<img src=x onerror=alert(1)>"),
    ("svg_onload", '"><svg onload=alert(1)>'),
    ("attr_break", "' autofocus onfocus=alert(1) x='"),
    ("data_hx", '<div data-hx-get="/admin/users" data-hx-trigger="load">x</div>'),
    ("hx_on", '<div hx-on:click="alert(1)" hx-get="/logout" hx-trigger="load">y</div>'),
    ("js_link", '<a href="javascript:alert(1)">click</a>'),
    ("js_bare", "javascript:alert(1)"),
    ("crlf_bcc", "Subject\r\nBcc: attacker@evil.example"),
    ("crlf_header", "name\r\nX-Injected: 1"),
    ("traversal", "../../../../etc/passwd"),
    ("traversal_win", "..\\..\\windows\\win.ini"),
    ("css_import", '<style>@import url("file:///etc/passwd");</style>'),
    ("css_url", f'<div style="background:url({LEAK_PLACEHOLDER}/leak)">z</div>'),
    ("link_css", f'<link rel=stylesheet href="{LEAK_PLACEHOLDER}/leak.css">'),
    ("img_remote", f'<img src="{LEAK_PLACEHOLDER}/leak.png">'),
    ("img_file", '<img src="file:///etc/passwd">'),
    ("iframe", '<iframe src="javascript:alert(1)"></iframe>'),
    ("template", "{{ 7*7 }} {% print 7*7 %} ${7*7}"),
    ("chinese_mix", "委托人王芳称<script>alert(1)</script>律师<img src=x onerror=alert(1)>"
                    "三个月未回复，要求退费。"),
)


@dataclass(frozen=True)
class Corpus:
    """The payloads with the leak server's address filled in, and ways to hand them out."""

    payloads: tuple[Payload, ...]
    leak_base: str

    @classmethod
    def build(cls, leak_base: str) -> Corpus:
        return cls(tuple(Payload(name, text.replace(LEAK_PLACEHOLDER, leak_base))
                         for name, text in _TEMPLATES), leak_base)

    def named(self, name: str) -> Payload:
        return next(p for p in self.payloads if p.name == name)

    @property
    def combined(self) -> str:
        """Every payload in one text, one per line between Chinese prose (long fields)."""
        lines = [f"第{n}段：{p.text}" for n, p in enumerate(self.payloads, start=1)]
        return "投诉内容如下。\n" + "\n".join(lines) + "\n以上。"

    def for_field(self, limit: int, index: int) -> str:
        """A value for a field holding at most `limit` characters: the whole corpus when it
        fits, else the `index`-th payload (round robin) among those that fit."""
        if limit >= len(self.combined):
            return self.combined
        fitting = [p.text for p in self.payloads if len(p.text) <= limit]
        if not fitting:
            raise ValueError(f"no payload fits in {limit} characters")
        return fitting[index % len(fitting)]


# Strings that only a payload carries: found in an attribute that can run, load or style
# something, they mean the payload reached it.
MARKERS = ("alert(1)", "/leak", "etc/passwd", "win.ini", "evil.example", "7*7")
FILE_CONTENT = ("root:x:0:0", "[fonts]", "for 16-bit app support")

# -- the local server WeasyPrint must never call ------------------------------------------------


@dataclass
class LeakServer:
    """An HTTP server on a free loopback port that records every connection it gets."""

    server: ThreadingHTTPServer
    requests: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def clear(self) -> None:
        self.requests.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_leak_server() -> LeakServer:
    recorded: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's API)
            recorded.append(f"GET {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        do_POST = do_HEAD = do_GET  # noqa: N815

        def log_message(self, *args) -> None:  # quiet
            return

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def process_request(self, request, client_address) -> None:
            recorded.append(f"connection from {client_address[0]}")
            super().process_request(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return LeakServer(server, recorded)


# -- active content in HTML -----------------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "data", "background",
                  "xlink:href", "srcset", "manifest", "ping", "cite"}
LOADING_ATTRIBUTES = {"src", "srcset", "poster", "data", "background", "manifest"}
HX_VERBS = ("get", "post", "put", "patch", "delete")
HX_REQUESTS = {f"{prefix}{verb}" for prefix in ("hx-", "data-hx-") for verb in HX_VERBS}
# htmx shows these to the user with window.confirm() / window.prompt(): text, never markup.
HX_TEXT = ("hx-confirm", "hx-prompt")
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "file:")
NEVER_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal",
              "svg", "math"}
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def parse(html: str) -> BeautifulSoup:
    """Python's HTML parser, every attribute kept as the one string the page wrote (an SVG
    image too: its elements and attributes are what the checks look at)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(html, "html.parser", multi_valued_attributes=None)


def _url(value: str) -> str:
    """A URL as a browser reads its scheme: controls and spaces ignored, any case."""
    return _INVISIBLE.sub("", value).lower()


def _is_hx(name: str) -> bool:
    return name.startswith(("hx-", "data-hx-")) and name.removeprefix("data-") not in HX_TEXT


def _attribute_problems(tag: Tag, name: str, value: str, document: bool) -> list[str]:
    where = f"<{tag.name} {name}={value[:80]!r}>"
    if name.startswith("on"):
        return [f"event handler attribute {where}"]
    if name.removeprefix("data-").startswith("hx-on"):
        return [f"hx-on attribute {where}"]
    if name == "srcdoc":
        return [f"srcdoc {where}"]
    if name == "style" and (not document or re.search(r"url\(|@import|expression", value, re.I)):
        return [f"style attribute {where}"]
    problems = []
    url = _url(value)
    is_url = name in URL_ATTRIBUTES or (_is_hx(name) and name.endswith(HX_VERBS))
    if is_url and url.startswith(DANGEROUS_SCHEMES):
        problems.append(f"dangerous URL {where}")
    loads = is_url and name in LOADING_ATTRIBUTES | HX_REQUESTS
    if loads and _loads_from_elsewhere(url, document):
        problems.append(f"resource from elsewhere {where}")
    if (_is_hx(name) or name in LOADING_ATTRIBUTES) and any(m in value for m in MARKERS):
        problems.append(f"payload inside an active attribute {where}")
    return problems


def _loads_from_elsewhere(url: str, document: bool) -> bool:
    if url.startswith("data:image/"):
        return False
    if document:  # relative to static/, never a scheme or an absolute path
        return ":" in url or url.startswith(("/", "\\"))
    return not url.startswith("/") or url.startswith(("//", "/\\"))


def _element_problems(tag: Tag, document: bool) -> list[str]:
    name = tag.name
    text = tag.get_text()
    if name in NEVER_TAGS:
        return [f"<{name}> element"]
    if name == "meta" and tag.get("http-equiv"):
        return [f"<meta http-equiv={tag.get('http-equiv')!r}>"]
    if name == "script":
        src = tag.get("src") or ""
        if document or text.strip() or not src.startswith("/static/"):
            return [f"<script src={src!r}>{text[:60]!r}"]
    if name == "style" and (not document or re.search(r"url\(|@import", text, re.I)
                            or any(m in text for m in MARKERS)):
        return [f"<style>{text[:80]!r}"]
    if name == "link":
        href = tag.get("href") or ""
        if document or not href.startswith(("/static/", "/favicon")):
            return [f"<link href={href!r}>"]
    return []


@dataclass(frozen=True)
class Signature:
    """An element a payload creates when pasted unescaped: its tag, attributes and text."""

    tag: str
    attrs: tuple[tuple[str, str], ...]
    text: str | None

    def found_in(self, element: Tag) -> bool:
        if element.name != self.tag:
            return False
        if any(element.get(k) != v for k, v in self.attrs):
            return False
        return self.text is None or self.text in element.get_text()


def signatures(corpus: Corpus) -> list[Signature]:
    found = []
    for payload in corpus.payloads:
        for element in parse(payload.text).find_all(True):
            attrs = tuple(sorted((k, v or "") for k, v in element.attrs.items()))
            text = element.get_text() if element.name in ("script", "style") else None
            if attrs or text:
                found.append(Signature(element.name, attrs, text or None))
    return found


def active_content(html: str, corpus: Corpus, *, document: bool = False) -> list[str]:
    """What in `html` could run, load or restyle something: [] when nothing.

    `document` is for HTML the portal renders to PDF or sends by email: the template's own
    <style> is allowed there (not one that imports or loads), relative images are static/.
    """
    soup = parse(html)
    wanted = signatures(corpus)
    problems = []
    for element in soup.find_all(True):
        problems += _element_problems(element, document)
        for name, value in element.attrs.items():
            problems += _attribute_problems(element, name.lower(), value or "", document)
        problems += [f"payload element <{s.tag} {dict(s.attrs)}>" for s in wanted
                     if s.found_in(element)]
    return problems


def svg_problems(svg: str, corpus: Corpus) -> list[str]:
    """What in an SVG image the portal draws could run or load something: the checks of a
    document (the <svg> root itself is the image), and any link that leaves the image."""
    problems = active_content(svg, corpus, document=True)
    if "<svg> element" in problems:
        problems.remove("<svg> element")  # the image's own root; a second one is a payload's
    for element in parse(svg).find_all(True):
        for name in ("href", "xlink:href"):
            target = element.get(name)
            if target is not None and not target.startswith("#"):
                problems.append(f"<{element.name} {name}={target[:80]!r}> leaves the image")
        if element.name in SVG_ANIMATIONS:
            problems += _animation_problems(element)
    return problems


# SMIL animations set an attribute of their parent while the image is shown: `<set
# attributeName="href" to="javascript:...">` turns a harmless link into a script.
SVG_ANIMATIONS = {"set", "animate", "animatemotion", "animatetransform"}


def _animation_problems(element: Tag) -> list[str]:
    target = (element.get("attributename") or "").strip().lower()
    values = _url(" ".join(str(element.get(n) or "") for n in ("from", "to", "by", "values")))
    if target in ("href", "xlink:href") or target.startswith("on") or any(
            scheme in values for scheme in DANGEROUS_SCHEMES):
        return [f"<{element.name} attributeName={target!r}> animates a link or a handler"]
    return []


def displayed(html: str) -> str:
    """The text a person sees on the page (input values included), whitespace collapsed:
    where an escaped payload shows up as the literal text it was."""
    soup = parse(html)
    values = [str(tag.get("value") or "") for tag in soup.find_all("input")]
    return " ".join(" ".join([soup.get_text(" "), *values]).split())


def shown_literally(html: str, text: str) -> bool:
    return " ".join(text.split()) in displayed(html)


# -- headers ----------------------------------------------------------------------------------

REDIRECT_HEADERS = ("location", "hx-redirect", "hx-location", "hx-push-url", "hx-replace-url")
INJECTED_NAMES = ("bcc", "x-injected")


def http_header_problems(headers: Iterable[tuple[str, str]]) -> list[str]:
    """Response headers that carry a line break, an injected name, a redirect off the site or
    a download name with a path in it."""
    problems = []
    for name, value in headers:
        lowered = name.lower()
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            problems.append(f"line break in {name}: {value[:80]!r}")
        if lowered in INJECTED_NAMES:
            problems.append(f"injected header {name}")
        if lowered in REDIRECT_HEADERS and not _same_site(value):
            problems.append(f"{name} leaves the site: {value[:80]!r}")
        if lowered == "content-disposition":
            problems += _disposition_problems(value)
    return problems


def _same_site(value: str) -> bool:
    url = _url(value)
    if url in ("true", "false"):  # HX-Push-Url / HX-Replace-Url may be a flag
        return True
    if url.startswith("http://localhost/"):
        url = url.removeprefix("http://localhost")
    return url.startswith("/") and not url.startswith(("//", "/\\"))


def _disposition_problems(value: str) -> list[str]:
    names = re.findall(r"filename\*?=([^;]+)", value)
    return [f"download name with a path: {n!r}" for n in names
            if "/" in n or "\\" in n or "%2f" in n.lower() or "%5c" in n.lower()
            or re.search(r"(^|[\"'])\.\.", n)]


def mail_problems(raw: bytes, allowed_recipients: Iterable[str] = ()) -> list[str]:
    """An email as it reached the SMTP server: every header line well formed, no injected
    header, each address header naming only the expected people, one line per value."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    problems = []
    names = []
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t"):
            continue  # a folded continuation of the header above
        name, colon, _value = line.partition(b":")
        if not colon or not re.fullmatch(rb"[!-9;-~]+", name):
            problems.append(f"not a header line: {line[:80]!r}")
            continue
        names.append(name.decode().lower())
    problems += [f"injected header {n}" for n in names if n in INJECTED_NAMES]
    problems += [f"{n} appears {names.count(n)} times" for n in ("to", "from", "subject")
                 if names.count(n) != 1]
    message = message_from_bytes(raw, policy=policy.default)
    for name, value in message.items():
        if "\r" in str(value) or "\n" in str(value):
            problems.append(f"line break in the value of {name}")
    allowed = {a.lower() for a in allowed_recipients}
    for name in ("to", "cc", "bcc", "reply-to"):
        for value in message.get_all(name) or []:
            for address in getattr(value, "addresses", ()):
                if "evil.example" in address.addr_spec or (
                        allowed and name == "to" and address.addr_spec.lower() not in allowed):
                    problems.append(f"{name}: {address.addr_spec}")
    return problems


def html_parts(raw: bytes) -> list[str]:
    message = message_from_bytes(raw, policy=policy.default)
    return [part.get_content() for part in message.walk()
            if part.get_content_type() == "text/html"]


def pdf_attachments(raw: bytes) -> list[bytes]:
    message = message_from_bytes(raw, policy=policy.default)
    return [part.get_content() for part in message.iter_attachments()
            if part.get_content_type() == "application/pdf"]


# -- files --------------------------------------------------------------------------------------


def evil_filenames(token: str) -> list[str]:
    """Upload names that try to leave the evidence folder, break a header or carry markup.
    `token` marks the files so that a copy written anywhere can be searched for."""
    return [
        f'../../escape-{token}-all"><img src=x onerror=alert(1)>\r\nX-Injected: 1.txt',
        f"../../escape-{token}.txt",
        f"../../../../../../tmp/escape-{token}.txt",
        f"/tmp/escape-{token}-abs.txt",
        f"..\\..\\escape-{token}-win.txt",
        f"C:\\Windows\\escape-{token}-drive.txt",
        f"evil\r\nX-Injected: 1 {token}.txt",
        f'"><img src=x onerror=alert(1)> {token}.txt',
        f"<script>alert(1)</script>{token}.txt",
        f"报告\u202e{token}txt.exe.txt",
    ]


def encoded_filename(token: str) -> str:
    """An upload name whose `%2F` some browsers decode in a download's plain `filename=`
    (RFC 6266, appendix D), which then names a path."""
    return f"..%2F..%2Fescape-{token}-encoded.txt"


def escaped_copies(roots: Iterable[Path], token: str,
                   allowed: Iterable[Path] = ()) -> list[Path]:
    """Files named after `token` in `roots` or a folder just below them, except in the
    `allowed` folders the portal writes to on purpose."""
    inside = {Path(a).resolve() for a in allowed}
    found = set()
    for root in roots:
        if root.is_dir():
            found.update(root.glob(f"*escape-{token}*"))
            found.update(root.glob(f"*/*escape-{token}*"))
    return sorted(p for p in found if p.resolve().parent not in inside)


def bad_original_name(name: str) -> bool:
    """A stored display/download name that still holds a path or a control character."""
    return ("/" in name or "\\" in name or name.startswith("..")
            or any(ord(c) < 32 or c in "\u202e\u202d" for c in name))


# -- PDFs ---------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """The text of every page, whitespace removed (lines break anywhere in a PDF)."""
    reader = PdfReader(io.BytesIO(data))
    return "".join("".join((page.extract_text() or "").split()) for page in reader.pages)


def pdf_problems(data: bytes) -> list[str]:
    text = pdf_text(data)
    return [f"file content in the PDF: {marker!r}" for marker in FILE_CONTENT if marker in text]


@dataclass
class DocumentRecorder:
    """What WeasyPrint was given and asked for while a test ran (see the fixture)."""

    html: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)

    def foreign_fetches(self) -> list[str]:
        """Fetches of anything but the portal's own static files and data: URIs."""
        static = Path(__file__).resolve().parents[2] / "static"
        own = (f"file://{static}/", "data:")
        return [url for url in self.fetched if not url.startswith(own)]
