"""The set-up contract (README.md): what `make run`, `make test` and `.ci/run` promise."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import run_dev  # noqa: E402


def _make_dry_run(target: str) -> str:
    result = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", "-W", "package-lock.json", target],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return result.stdout


def test_ci_runs_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert script.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in script
    assert "make test" in script


def test_make_test_installs_then_runs_both_databases():
    plan = _make_dry_run("test")
    assert "system_packages.sh --test" in plan
    assert "pip install" in plan and "npm ci" in plan
    assert "scripts/run_tests.sh" in plan
    runner = (ROOT / "scripts" / "run_tests.sh").read_text()
    assert "pg_test.sh start" in runner and "trap" in runner and "pg_test.sh stop" in runner
    assert "TEST_DATABASE_URL" in runner and "ruff" in runner


def test_make_run_migrates_seeds_and_starts_the_supervisor():
    plan = _make_dry_run("run")
    assert plan.index("flask db upgrade") < plan.index("flask demo seed") < plan.index(
        "scripts/run_dev.py"
    )


def test_run_starts_web_outbox_and_mail_sink_with_mail_settings():
    commands = run_dev._commands(5000, 2)
    assert "127.0.0.1:5000" in commands["web"]
    assert commands["outbox"][-3:] == ["work", "--interval", "2"]
    assert commands["mailsink"][-5:] == ["serve", "--port", "8025", "--dir", "instance/mail"]
    env = run_dev._environment()
    assert (env["MAIL_SERVER"], env["MAIL_PORT"], env["MAIL_SINK_DIR"]) == (
        "127.0.0.1", "8025", "instance/mail"
    )


def test_run_banner_lists_every_demo_account_and_the_mailbox():
    banner = run_dev._banner(5000)
    assert "http://127.0.0.1:5000/mailbox" in banner
    for username in ("reception", "investigator", "investigator2", "committee1", "committee2",
                     "committee3", "partner", "partner2"):
        assert f"  {username} " in banner


def test_missing_system_packages_without_root_print_the_apt_command(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text("#!/bin/sh\necho 1000\n")
    (fake / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")  # nothing is installed
    for tool in fake.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "scripts/system_packages.sh", "--test"], cwd=ROOT, env=env,
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 1
    assert ("sudo apt-get update && sudo apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 "
            "libharfbuzz-subset0 fonts-noto-cjk poppler-utils dovecot-imapd openssl chromium "
            "default-jre-headless "
            "postgresql-15") in result.stderr


@pytest.mark.skipif(not Path("/usr/lib/postgresql/15/bin/initdb").exists()
                    or shutil.which("runuser") is None, reason="PostgreSQL 15 not installed")
def test_throwaway_postgres_starts_answers_and_stops(tmp_path):
    with socket.socket() as probe:  # a free port, so as not to meet make test's own cluster
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PG_TEST_PORT": str(port), "PG_TEST_DIR": str(tmp_path / "pg")}
    if os.geteuid() == 0:
        env["PG_TEST_DIR"] = f"/tmp/redress-pg-contract-{os.getpid()}"  # postgres must reach it
    script = ["bash", str(ROOT / "scripts" / "pg_test.sh")]
    try:
        started = subprocess.run([*script, "start"], env=env, capture_output=True, text=True,
                                 check=True, timeout=120)
        url = started.stdout.strip().splitlines()[-1]
        assert url == f"postgresql+psycopg://redress@127.0.0.1:{port}/redress_test"
        import psycopg

        with psycopg.connect(url.replace("+psycopg", "")) as connection:
            assert connection.execute("select 1").fetchone() == (1,)
    finally:
        subprocess.run([*script, "stop"], env=env, capture_output=True, check=True, timeout=120)
    assert subprocess.run([*script, "status"], env=env, check=False).returncode != 0
    assert not Path(env["PG_TEST_DIR"]).exists()
