"""Browser hardening headers on every page, and pages that the CSP will not break."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

from tests.security.access_matrix import ROLE_USERS, ROLES, become, request_as, route_cases

MAX_PAGES_PER_ROLE = 150
MAX_QUERIES_PER_PATH = 3  # e.g. a calendar links to the next year forever


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def header_problems(response, url: str) -> list[str]:
    problems = []
    csp = _csp(response)
    script = csp.get("script-src", csp.get("default-src"))
    if script is None:
        problems.append("no script-src/default-src in the CSP")
    elif {"'unsafe-inline'", "'unsafe-eval'"} & set(script) or "*" in script:
        problems.append(f"script-src too permissive: {script}")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append("frame-ancestors is not 'none'")
    if csp.get("object-src") != ["'none'"]:
        problems.append("object-src is not 'none'")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not response.headers.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    cache = response.headers.get("Cache-Control", "")
    if not url.startswith("/static/") and "no-store" not in cache:
        problems.append("no Cache-Control: no-store")
    return [f"{url}: {p}" for p in problems]


def test_every_get_route_sends_the_headers_to_every_role(app, client):
    problems = []
    for case in route_cases(app, {"GET"}):
        for role in ROLES:
            response = request_as(client, role, case)
            problems += header_problems(response, case.url)
    assert not problems, "\n".join(sorted(set(problems)))


LINK = re.compile(r'\b(?:href|action|data-hx-get)="([^"]+)"')


def _links(html: str, base: str) -> list[str]:
    found = []
    for raw in LINK.findall(html):
        url = urljoin(base, raw.replace("&amp;", "&"))
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(client, username: str | None):
    """Breadth-first over the links a user of this role can follow."""
    become(client, username)
    seen, queue = set(), deque(["/", "/login", "/complaint"])
    variants: dict[str, int] = {}
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        path = urlsplit(url).path
        if url in seen or variants.get(path, 0) >= MAX_QUERIES_PER_PATH:
            continue
        seen.add(url)
        variants[path] = variants.get(path, 0) + 1
        response = client.get(url, follow_redirects=False)
        yield url, response
        if response.mimetype == "text/html" and response.status_code == 200:
            queue.extend(u for u in _links(response.text, url) if not u.startswith("/static/"))


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"<[^>]+\sstyle\s*=", re.I)
REMOTE = re.compile(
    r'<(?:script|img|link|iframe|source|audio|video)\b[^>]*\b(?:src|href)="(?:https?:)?//', re.I
)


def page_problems(html: str, url: str) -> list[str]:
    problems = []
    if INLINE_SCRIPT.search(html):
        problems.append("inline <script> (blocked by the CSP)")
    if EVENT_HANDLER.search(html):
        problems.append("inline event handler (blocked by the CSP)")
    if STYLE_ATTR.search(html):
        problems.append("style attribute (blocked by the CSP)")
    if REMOTE.search(html):
        problems.append("asset or link from another host")
    if re.search(r"\shx-[a-z]+=", html):
        problems.append("bare hx-* attribute (write data-hx-*)")
    return [f"{url}: {p}" for p in problems]


def test_every_reachable_page_is_hardened_and_csp_clean(app, client):
    problems, visited = [], 0
    for role in ROLES:
        for url, response in crawl(client, ROLE_USERS.get(role)):
            visited += 1
            problems += header_problems(response, url)
            if response.status_code >= 500:
                problems.append(f"{url} as {role}: {response.status_code}")
            if response.mimetype == "text/html":
                problems += page_problems(response.text, url)
    assert visited > 10
    assert not problems, "\n".join(sorted(set(problems)))


def test_static_files_are_nosniff_and_cacheable(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_session_cookie_flags(client):
    response = client.post("/login", data={"username": "partner", "password": "redress-demo"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in development; production forces Secure


def test_htmx_is_configured_safely(client):
    page = client.get("/login").text
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page).group(1)
    assert '"selfRequestsOnly": true' in config
    assert '"allowEval": false' in config
    assert '"historyCacheSize": 0' in config
