"""Deployment (issue: `make serve`, deploy/, docs/deployment.md): the systemd units, the env
file and the nginx snippet say what the app needs; behind one trusted proxy the app sees the
client's address and HTTPS; every link in an email starts with PUBLIC_BASE_URL; and
scripts/serve.py refuses to serve from the SQLite default by accident.

The proxy tests add to tests/security/test_login_throttle.py (X-Forwarded-For with and
without TRUSTED_PROXY_COUNT): X-Forwarded-Proto, a forged chain, the setting from the
environment. tests/security/test_production.py has the production start-up checks; here they
are what the env example must satisfy.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import secrets
import shlex
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import click
import pytest
from flask import jsonify, request, url_for
from sqlalchemy import select

from portal import clock as portal_clock
from portal import config as portal_config
from portal import create_app
from portal.db import db, writes_by_default
from portal.models import OutboxMessage, User
from portal.models.followup import RootCause
from portal.security import public
from tests import (
    ballot_support,
    client_support,
    decision_support,
    followup_support,
    remedies_support,
)
from tests.conftest import AuthActions
from tests.findings_factory import make_investigation
from tests.triage_support import registered, triaged, user_id, version
from tests.web.test_intake_support import HX, complete_draft
from tests.workspace_support import investigating

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
sys.path.insert(0, str(ROOT / "scripts"))
import serve  # noqa: E402

UNITS = ("redress-web.service", "redress-outbox.service", "redress-mail.service")
ENV_FILE = "/etc/redress/redress.env"
VENV_BIN = "/opt/redress/.venv/bin/"
BASE = "https://redress.firm.example"
STRONG = "a-long-random-production-secret-0123456789abcdef"
URL = re.compile(r"""https?://[^\s"'<>]+""")
# Read by something other than app.config: the flask command (FLASK_APP).
READ_OUTSIDE_CONFIG = {"FLASK_APP"}


# -- helpers -------------------------------------------------------------------------------------

def read_unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}} (a key may repeat, e.g. Environment=)."""
    text = (DEPLOY / name).read_text(encoding="utf-8")
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)  # it parses as INI
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{name}:{number}: {line}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: dict, section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"{section}/{key}: {values}"
    return values[0]


def exec_start(name: str) -> list[str]:
    return shlex.split(one(read_unit(name), "Service", "ExecStart"))


def unit_environment(unit: dict) -> dict[str, str]:
    found = {}
    for value in unit["Service"].get("Environment", []):
        for assignment in shlex.split(value):
            key, _, raw = assignment.partition("=")
            found[key] = raw
    return found


def read_env_example() -> tuple[dict[str, str], dict[str, str]]:
    """(the settings, the optional ones written `#KEY=value`) of deploy/redress.env.example."""
    settings, optional = {}, {}
    for line in (DEPLOY / "redress.env.example").read_text(encoding="utf-8").splitlines():
        active = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        commented = re.fullmatch(r"#([A-Z][A-Z0-9_]*)=(.*)", line)
        match, target = (active, settings) if active else (commented, optional)
        if match:
            key, value = match.groups()
            assert key not in settings and key not in optional, f"{key} twice"
            target[key] = value.strip().strip("'\"")
    return settings, optional


def nginx_directives() -> list[tuple[str, list[str]]]:
    """(name, arguments) of every directive in the snippet, comments left out."""
    text = "\n".join(line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
                     for line in (DEPLOY / "nginx-redress.conf").read_text().splitlines())
    return [(words[0], words[1:]) for statement in re.split(r"[;{}]", text)
            if (words := statement.split())]


def size_in_bytes(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", value)
    assert match, value
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    return int(match.group(1)) * factor


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No setting from the outside (this checkout's instance/config.py included)."""
    for key in (*portal_config.ENV_KEYS, "DATABASE_URL", "PUBLIC_BASE_URL", "ALLOW_SQLITE",
                "BIND", "PORT", "WORKERS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("REDRESS_INSTANCE", str(tmp_path / "instance"))
    return tmp_path


def bare_app(tmp_path, **overrides):
    """An app on an empty SQLite file (no tables: enough for what is tested with it)."""
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bare.sqlite3'}",
                       "AUDIT_HMAC_KEY": STRONG, **overrides})


# -- the systemd units ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", UNITS)
def test_each_unit_runs_as_redress_from_the_env_file_restarts_and_is_hardened(name):
    unit = read_unit(name)
    assert one(unit, "Unit", "Description").startswith("Redress")
    service = {key: values[-1] for key, values in unit["Service"].items()}
    assert service["User"] == service["Group"] == "redress"
    assert service["WorkingDirectory"] == "/opt/redress"
    assert one(unit, "Service", "EnvironmentFile") == ENV_FILE
    assert service["Restart"] == "always"
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    assert "/opt/redress/instance" in service["ReadWritePaths"].split()
    assert service["PrivateTmp"] == service["ProtectHome"] == "true"
    assert one(unit, "Install", "WantedBy") == "multi-user.target"
    assert exec_start(name)[0].startswith(VENV_BIN)


def test_the_web_unit_runs_gunicorn_on_wsgi_app_where_the_proxy_sends():
    from gunicorn.config import Config

    command = exec_start("redress-web.service")
    assert command[0] == VENV_BIN + "gunicorn"
    parsed = Config().parser().parse_args(command[1:])  # gunicorn's own options
    assert parsed.args == ["wsgi:app"]
    assert parsed.bind == ["127.0.0.1:8000"] and parsed.workers >= 1
    tree = ast.parse((ROOT / "wsgi.py").read_text())
    assert any(isinstance(node, ast.Assign) and node.targets[0].id == "app"
               for node in tree.body)
    passes = [args[0] for name, args in nginx_directives() if name == "proxy_pass"]
    assert passes == [f"http://{parsed.bind[0]}"]
    assert serve.bind_address({}) == parsed.bind[0]  # make serve listens there too


@pytest.mark.parametrize(("name", "words"), [("redress-outbox.service", ["outbox", "work"]),
                                              ("redress-mail.service", ["mail", "work"])])
def test_the_worker_units_run_existing_flask_commands(isolated, name, words):
    command = exec_start(name)
    assert command[0] == VENV_BIN + "flask" and command[1:] == words
    unit = read_unit(name)
    flask_app = unit_environment(unit).get("FLASK_APP") or read_env_example()[0]["FLASK_APP"]
    assert (ROOT / flask_app).is_file()
    app = bare_app(isolated)
    group = app.cli.get_command(click.Context(app.cli), words[0])
    assert group is not None, words
    work = group.get_command(click.Context(group), words[1])
    assert work is not None, words
    work.make_context(words[1], [])  # the unit's arguments parse


def test_the_mail_fetcher_unit_says_when_to_enable_it():
    text = (DEPLOY / "redress-mail.service").read_text()
    assert "MAIL_INBOX_HOST" in text and "Enable it ONLY when" in text


# -- the env file --------------------------------------------------------------------------------

def _refusal_names(error: Exception) -> set[str]:
    known = {*portal_config.ENV_KEYS, "DATABASE_URL", "PUBLIC_BASE_URL"}
    return set(re.findall(r"\b[A-Z][A-Z0-9_]{3,}\b", str(error))) & known


def test_the_env_example_holds_every_setting_production_refuses_to_start_without(isolated,
                                                                                  monkeypatch):
    """Start a production app with the example's values; each refusal names a setting, which
    must be in the example (empty there: the admin fills it in); fill it and start again."""
    settings, _optional = read_env_example()
    assert settings["ENV_NAME"] == "production"
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{isolated / 'prod.sqlite3'}")
    required = []
    for _attempt in range(10):
        try:
            app = create_app()
            break
        except RuntimeError as error:
            named = _refusal_names(error) - set(required)
            assert named, f"a refusal that names no setting: {error}"
            for key in sorted(named):
                assert key in settings, f"production requires {key}: add it to the example"
                assert not settings[key], f"{key} is required but the example fills it in"
                monkeypatch.setenv(key, secrets.token_hex(32))
                required.append(key)
    else:
        pytest.fail(f"still refused after filling {required}")
    assert {"SECRET_KEY", "AUDIT_HMAC_KEY"} <= set(required)  # an unedited copy never starts
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        db.engine.dispose()


def _example_app(monkeypatch, values: dict[str, str]):
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("AUDIT_HMAC_KEY", STRONG)
    return create_app()


def test_every_setting_in_the_env_example_reaches_the_app(isolated, monkeypatch):
    """Nothing in the example is ignored: each value (the optional ones too) is what the app
    ends up with. PUBLIC_BASE_URL has its own test below."""
    settings, optional = read_env_example()
    values = {**settings, **optional}
    app = _example_app(monkeypatch, values)
    names = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}
    ignored = []
    for key, raw in values.items():
        if key in {*READ_OUTSIDE_CONFIG, "SECRET_KEY", "AUDIT_HMAC_KEY", "PUBLIC_BASE_URL"}:
            continue
        seen = app.config.get(names.get(key, key))
        if str(seen).lower() != raw.lower():
            ignored.append(f"{key}={raw!r} but the app has {seen!r}")
    assert not ignored, "\n".join(ignored)
    assert app.config["TRUSTED_PROXY_COUNT"] == 1 and app.config["MAIL_PORT"] == 587
    assert set(values) - READ_OUTSIDE_CONFIG <= {*portal_config.ENV_KEYS, "DATABASE_URL"}


def test_public_base_url_from_the_env_file_reaches_the_app(isolated, monkeypatch):
    settings, _optional = read_env_example()
    app = _example_app(monkeypatch, settings)
    assert app.config["PUBLIC_BASE_URL"] == settings["PUBLIC_BASE_URL"] == BASE


# -- the nginx snippet ---------------------------------------------------------------------------

def test_nginx_sets_the_forwarded_headers_from_what_it_saw():
    headers = {args[0].lower(): " ".join(args[1:]) for name, args in nginx_directives()
               if name == "proxy_set_header"}
    # overwritten, not appended to what the client sent ($proxy_add_x_forwarded_for)
    assert headers["x-forwarded-for"] == "$remote_addr"
    assert headers["x-forwarded-proto"] == "$scheme"
    assert headers["host"] == "$host"
    for forged in ("x-forwarded-host", "forwarded", "x-forwarded-ssl", "x-forwarded-protocol"):
        assert headers[forged] == '""', forged  # removed
    read_env = read_env_example()[0]
    assert read_env["TRUSTED_PROXY_COUNT"] == "1"  # this one proxy


def test_nginx_takes_uploads_as_large_as_the_app_accepts(isolated):
    [limit] = [args[0] for name, args in nginx_directives() if name == "client_max_body_size"]
    app = bare_app(isolated)
    assert size_in_bytes(limit) >= app.config["MAX_CONTENT_LENGTH"] > app.config[
        "EVIDENCE_MAX_BYTES"]


def test_nginx_redirects_to_https_and_serves_the_static_files():
    directives = nginx_directives()
    returns = [args for name, args in directives if name == "return"]
    assert ["301", "https://redress.firm.example$request_uri"] in returns
    assert any(name == "ssl_certificate" for name, _ in directives)
    aliases = [args[0] for name, args in directives if name == "alias"]
    assert aliases == ["/opt/redress/static/", "/opt/redress/static/vendor/"]
    assert (ROOT / "static").is_dir()
    text = (DEPLOY / "nginx-redress.conf").read_text()
    vendor = text[text.index("location /static/vendor/"):]
    assert re.search(r"expires (\d+)d;", vendor[:vendor.index("}")])
    timeouts = {name for name, _ in directives if name.startswith("proxy_") and "timeout" in name}
    assert {"proxy_connect_timeout", "proxy_read_timeout", "proxy_send_timeout"} <= timeouts


# -- behind the proxy ----------------------------------------------------------------------------

def _probe(app):
    """A page that tells what the app saw of the request."""
    @public
    def probe():
        return jsonify(remote_addr=request.remote_addr, secure=request.is_secure,
                       external=url_for("probe", _external=True))

    app.add_url_rule("/probe", "probe", probe)
    return app.test_client()


FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def test_one_trusted_proxy_from_the_env_file_gives_the_clients_address_and_https(
        isolated, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")  # as /etc/redress/redress.env sets it
    app = bare_app(isolated)
    seen = _probe(app).get("/probe", headers=FORWARDED).json
    assert seen == {"remote_addr": "203.0.113.9", "secure": True,
                    "external": "https://localhost/probe"}
    response = app.test_client().get("/healthz", headers=FORWARDED)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_without_a_trusted_proxy_the_forwarded_headers_are_ignored(isolated):
    app = bare_app(isolated)
    assert app.config["TRUSTED_PROXY_COUNT"] == 0
    seen = _probe(app).get("/probe", headers=FORWARDED).json
    assert seen == {"remote_addr": "127.0.0.1", "secure": False,
                    "external": "http://localhost/probe"}
    assert "Strict-Transport-Security" not in app.test_client().get(
        "/healthz", headers=FORWARDED).headers


def test_one_trusted_proxy_uses_the_address_it_added_not_a_chain_the_client_forged(isolated):
    """Had nginx appended (X-Forwarded-For: forged, real), the last hop still counts."""
    app = bare_app(isolated, TRUSTED_PROXY_COUNT=1)
    seen = _probe(app).get("/probe", headers={
        "X-Forwarded-For": "192.0.2.66, 203.0.113.9", "X-Forwarded-Proto": "http, https"}).json
    assert seen["remote_addr"] == "203.0.113.9" and seen["secure"] is True


# -- PUBLIC_BASE_URL in every emailed link -------------------------------------------------------

def links_by_kind(app, kinds: set[str] | None = None) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    with app.app_context():
        for message in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
            if kinds is None or message.kind in kinds:
                urls = URL.findall(message.body_text) + URL.findall(message.body_html or "")
                found.setdefault(message.kind, set()).update(urls)
    return found


def assert_public(found: dict[str, set[str]], expected: set[str]) -> None:
    """Every link starts with PUBLIC_BASE_URL, and each expected kind carries one."""
    stray = sorted(f"{kind}: {url}" for kind, urls in found.items() for url in urls
                   if not url.startswith(BASE + "/"))
    assert not stray, "\n".join(stray)
    missing = sorted(kind for kind in expected if not found.get(kind))
    assert not missing, f"no link in {missing}; links: {found}"


@pytest.fixture
def public_app(app):
    """The portal's public address is not the host the test requests come from (localhost)."""
    app.config["PUBLIC_BASE_URL"] = BASE
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    return app


def test_links_emailed_from_staff_actions_start_with_public_base_url(public_app, client):
    app, auth = public_app, AuthActions(client)
    auth.login_as("receptionist")  # the confirmation link to the client
    key = complete_draft(client, app)
    assert client.post(f"/complaints/{key}/confirmation-link", headers=HX).status_code == 200
    auth.logout()
    auth.login_as("partner")  # the assignment: the investigators' workspace
    cid = registered(app)
    triaged(app, cid, severity="serious")
    response = client.post("/complaints/TS-2026-00101/assignment", headers=HX, data={
        "version": version(app, cid), "assign-lead": str(user_id(app, "partner2")),
        "assign-investigators": [str(user_id(app, "investigator")),
                                 str(user_id(app, "investigator2"))]})
    assert response.status_code == 200, response.text
    auth.logout()
    auth.login_as("investigator")  # the respondent's written-reply link
    reference = investigating(app)
    due = (portal_clock.today() + timedelta(days=10)).isoformat()
    response = client.post(f"/complaints/{reference}/investigation/replies", headers=HX,
                           data={"reply-respondent_id": str(user_id(app, "王磊")),
                                 "reply-due_on": due})
    assert response.status_code == 200, response.text
    assert_public(links_by_kind(app), {"confirmation_request", "assignment", "reply_request"})


def test_links_emailed_to_and_about_clients_start_with_public_base_url(public_app, client):
    app = public_app
    cid = client_support.outcome_sent(app)
    # a lost link: the new one goes to the address on file
    assert client.post("/c/lost", data={"reference": client_support.REFERENCE,
                                        "email": client_support.EMAIL}).status_code == 200
    # the client answers on their page: the partner and the handler are told
    response = client.post(f"{client_support.page_url(app, cid)}/answer", data={
        "kind": "accepted", "decision": str(client_support.decision_id(app, cid))})
    assert response.status_code == 303
    # the remedies done: the completion letter (with the client's page) and the survey
    followup_support.in_follow_up(app, reference="TS-2026-00311", via_completion=True)
    # the outcome notice's email, with the link to the client's page
    decided = decision_support.awaiting(app, reference="TS-2026-00312")
    decision_support.decide(app, decided)
    decision_support.issue(app, decided)
    assert_public(links_by_kind(app), {"client_link", "client_answered", "completion",
                                       "survey", "outcome"})


def test_links_the_worker_emails_start_with_public_base_url(public_app, clock):
    """The outbox worker's periodic jobs, which have no request at all."""
    app = public_app
    ballot = ballot_support.awaiting(app, reference="TS-2026-00301")
    ballot_support.open_ballot(app, ballot, closes_in=timedelta(hours=30))
    followup_support.in_follow_up(app, reference="TS-2026-00302")
    remedies_support.started(app, remedies_support.accepted(app, reference="TS-2026-00303"))
    with app.app_context():
        make_investigation(reference="TS-2026-00304",  # its first response due tomorrow
                           first_response_due=clock.today() + timedelta(days=1))
    with app.test_request_context(), writes_by_default():
        from portal.services.followup import actions

        partner = db.session.scalar(select(User).where(User.username == "partner2"))
        cause = db.session.scalar(select(RootCause).order_by(RootCause.id).limit(1))
        actions.create(partner, actions.ActionInput(
            title="Deadline diary", description="Each team keeps one.", kind="procedure",
            owner_id=partner.id, due=clock.today() + timedelta(days=2),
            complaints="TS-2026-00304", root_cause_ids=(cause.id,)))
        db.session.commit()
    from portal.commands.outbox import _ticks

    # a few hours (the ballot's reminder), days (deadline and survey reminders), then weeks
    for step in (timedelta(hours=7), timedelta(days=6), timedelta(days=40)):
        clock.advance(step)
        with app.app_context():
            for tick_if_due in _ticks().values():
                tick_if_due(None)
    assert_public(links_by_kind(app), {
        "ballot_opened", "ballot_reminder", "sla_reminder", "sla_escalation", "survey",
        "survey_reminder", "remedy_reminder", "callback_due", "action_reminder",
        "report_reminder"})


# -- make serve (scripts/serve.py) ---------------------------------------------------------------

def test_serve_refuses_to_start_without_database_url():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "serve.py")], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "DATABASE_URL is not set" in result.stderr and "ALLOW_SQLITE=1" in result.stderr
    assert "Running upgrade" not in result.stderr + result.stdout  # nothing was started


def test_serve_accepts_sqlite_only_when_told_to():
    assert serve.database_problem({}) == serve.NO_DATABASE
    assert serve.database_problem({"DATABASE_URL": "  "}) == serve.NO_DATABASE
    assert serve.database_problem({"ALLOW_SQLITE": "0"}) == serve.NO_DATABASE
    assert serve.database_problem({"ALLOW_SQLITE": "1"}) is None
    assert serve.database_problem({"DATABASE_URL": "postgresql+psycopg://r@db/r"}) is None


def test_serve_runs_gunicorn_and_the_outbox_worker_and_the_fetcher_only_with_a_mailbox():
    without = serve.commands("127.0.0.1:8000", 2, mail=False)
    assert list(without) == ["web", "outbox"]
    web = without["web"]
    assert Path(web[0]).name == "gunicorn" and web[-1] == "wsgi:app"
    assert web[web.index("--workers") + 1] == "2" and web[web.index("--bind") + 1] == \
        "127.0.0.1:8000" and web[web.index("--access-logfile") + 1] == "-"
    assert without["outbox"][1:] == ["outbox", "work"]
    with_mail = serve.commands("127.0.0.1:8000", 2, mail=True)
    assert list(with_mail) == ["web", "outbox", "mailfetch"]
    assert with_mail["mailfetch"][1:] == ["mail", "work"]
    everything = " ".join(" ".join(command) for command in with_mail.values())
    assert "mailsink" not in everything and "demo" not in everything


def test_serve_listens_on_port_or_bind_with_workers():
    assert serve.bind_address({}) == "127.0.0.1:8000"
    assert serve.bind_address({"PORT": "8001"}) == "127.0.0.1:8001"
    assert serve.bind_address({"PORT": "8001", "BIND": "0.0.0.0:9000"}) == "0.0.0.0:9000"
    assert serve.workers({}) == 2 and serve.workers({"WORKERS": "5"}) == 5
    for bad in ({"PORT": "http"}, {"PORT": "70000"}, {"WORKERS": "0"}):
        with pytest.raises(serve.SettingError):
            serve.bind_address(bad) if "PORT" in bad else serve.workers(bad)
    env = serve.environment({"DATABASE_URL": "x"})
    assert env["FLASK_APP"] == "wsgi.py" and env["DATABASE_URL"] == "x"
    assert "MAIL_SERVER" not in env and "MAIL_SINK_DIR" not in env  # no development sink


def test_serve_finds_the_mailbox_in_the_environment_or_instance_config(isolated, monkeypatch):
    assert serve.mailbox_configured() is False
    (isolated / "instance" / "config.py").write_text('MAIL_INBOX_HOST = "imap.firm.example"\n')
    assert serve.mailbox_configured() is True
    (isolated / "instance" / "config.py").unlink()
    monkeypatch.setenv("MAIL_INBOX_HOST", "imap.firm.example")
    assert serve.mailbox_configured() is True


def test_make_serve_sets_up_then_runs_the_supervisor():
    plan = subprocess.run(["make", "-n", "-W", "pyproject.toml", "-W", "package-lock.json",
                           "serve"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "pip install" in plan and plan.index("pip install") < plan.index("scripts/serve.py")
    assert "demo seed" not in plan and "run_dev" not in plan
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^#   make serve ", makefile, re.M)
    assert re.search(r"\.PHONY:[^\n]*(\\\n[^\n]*)*\bserve\b", makefile)


# -- docs/deployment.md --------------------------------------------------------------------------

def test_the_deployment_guide_uses_the_shipped_files_and_existing_commands(isolated):
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for name in (*UNITS, "redress.env.example", "nginx-redress.conf"):
        assert f"deploy/{name}" in guide, name
    app = bare_app(isolated)
    context = click.Context(app.cli)
    missing = []
    for words in re.findall(r"redress-flask ([a-z-]+(?: [a-z-]+)?)", guide):
        group = app.cli.get_command(context, words.split()[0])
        if group is None:
            missing.append(words)
            continue
        if isinstance(group, click.Group) and len(words.split()) > 1 and group.get_command(
                click.Context(group), words.split()[1]) is None:
            missing.append(words)
    assert not missing, missing
    assert "/healthz" in guide and "(backup.md)" in guide
