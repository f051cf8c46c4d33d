"""Serving under gunicorn, signing in, and measuring with wrk (for bench_concurrency)."""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
CONNECTIONS = 16
THREADS = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`gunicorn -w N app` on a free loopback port, in its own process group."""

    def __init__(self, app: str, workers: int, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [str(GUNICORN), "--workers", str(workers), "--worker-class", "sync",
                   "--bind", f"127.0.0.1:{self.port}", "--timeout", "120",
                   "--graceful-timeout", "5", "--log-level", "warning", "--no-control-socket", app]
        self._log = log.open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, path: str = "/", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer on {self.base} within {timeout:g} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


@contextmanager
def portal_beside_ceiling(workers: int, env: dict[str, str], log: Path, username: str,
                          password: str) -> Iterator[tuple[Gunicorn, Gunicorn, str]]:
    """The portal and the one-line page, each under gunicorn with `workers` workers, and a
    session cookie of `username` signed in to the portal."""
    with (signed_in_portal(workers, env, log, username, password) as (portal, cookie),
          one_line_page(workers, env, log) as ceiling):
        yield portal, ceiling, cookie


@contextmanager
def signed_in_portal(workers: int, env: dict[str, str], log: Path, username: str,
                     password: str) -> Iterator[tuple[Gunicorn, str]]:
    """The portal under gunicorn and a session cookie of `username` signed in to it."""
    with Gunicorn("wsgi:app", workers, env, log) as portal:
        portal.wait_ready("/healthz")
        yield portal, sign_in(portal.base, username, password, "redress_session")


@contextmanager
def one_line_page(workers: int, env: dict[str, str], log: Path) -> Iterator[Gunicorn]:
    """The ceiling: a one-line Flask page served the same way as the portal."""
    with Gunicorn("tests.bench.oneline_app:app", workers, env, log) as ceiling:
        ceiling.wait_ready()
        yield ceiling


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None


def sign_in(base: str, username: str, password: str, cookie_name: str) -> str:
    """POST /login with the CSRF token from the login page, open the home page; return the
    Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    with opener.open(base + "/login", timeout=30) as response:
        page = response.read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    if match is None:
        raise RuntimeError("no CSRF token on the login page")
    form = urllib.parse.urlencode({"csrf_token": html.unescape(match.group(1)),
                                   "username": username, "password": password}).encode()
    try:
        opener.open(base + "/login", data=form, timeout=30)
        raise RuntimeError("signing in did not redirect (wrong password?)")
    except urllib.error.HTTPError as error:
        if error.code not in (302, 303):
            raise
    # Land on the home page as a browser does after the redirect: the session then holds its
    # CSRF secret, and the cookie wrk repeats is the one a browser would keep sending.
    with opener.open(base + "/", timeout=30) as response:
        response.read()
    cookies = {c.name: c.value for c in jar}
    if cookie_name not in cookies:
        raise RuntimeError(f"no {cookie_name} cookie after signing in")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def get_status(url: str, cookie: str | None = None) -> tuple[int, str]:
    """One GET without following redirects: (status, body)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


@dataclass
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers, and connections that timed out or failed

    @property
    def tail(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("inf")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Result:
    def percentile(p: str) -> float:
        return _ms(re.search(rf"^\s*{p}%\s+(\S+)", output, re.M).group(1))

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return Result(
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=percentile("50"), p99_ms=percentile("99"),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
    )


def wrk(url: str, seconds: float, cookie: str | None = None) -> Result:
    command = ["wrk", "--latency", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s",
               "--timeout", "30s", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench` (it installs the Debian "
                         "package wrk), or `bash scripts/system_packages.sh --bench`.")
