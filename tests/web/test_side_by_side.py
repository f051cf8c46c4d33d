"""Two checkouts' `make run` side by side: the mail sink's port follows the web port."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import run_dev  # noqa: E402


@pytest.mark.parametrize(("web", "sink"), [(5000, 8025), (5001, 8026), (8000, 11025)])
def test_the_sink_port_follows_the_web_port(web, sink):
    assert run_dev.sink_port(web, {}) == sink
    assert run_dev._commands(web, 2, run_dev.sink_port(web, {}))["mailsink"][3:5] == [
        "--port", str(sink)]


def test_sink_port_or_mail_port_can_be_set():
    assert run_dev.sink_port(5000, {"SINK_PORT": "9025"}) == 9025
    assert run_dev.sink_port(5000, {"MAIL_PORT": "9026"}) == 9026
    assert run_dev.sink_port(5000, {"SINK_PORT": "9025", "MAIL_PORT": "9026"}) == 9025
    assert run_dev._environment(9025)["MAIL_PORT"] == "9025"  # the worker sends to it


@pytest.mark.parametrize(("web", "env", "words"), [
    (5000, {"SINK_PORT": "eighty"}, "SINK_PORT=eighty is not a port number"),
    (5000, {"MAIL_PORT": "70000"}, "MAIL_PORT=70000 is not a port number"),
    (5000, {"SINK_PORT": "5000"}, "SINK_PORT is the web server's port 5000"),
    (65000, {}, "set SINK_PORT"),
])
def test_an_unusable_sink_port_names_the_variable(web, env, words):
    with pytest.raises(run_dev.PortError, match=words):
        run_dev.sink_port(web, env)


def test_a_busy_sink_port_says_which_port_and_what_to_set():
    message = run_dev.busy_message(8025, "sink", 5000)
    assert "port 8025 (the mail sink) is already in use" in message
    assert "SINK_PORT=8026" in message and "PORT=5001" in message
    assert "choose another web port" not in message


def test_a_busy_web_port_says_where_the_sink_moves():
    message = run_dev.busy_message(5000, "web", 5000)
    assert "port 5000 (the web server) is already in use" in message
    assert "make run PORT=5001" in message and "8026" in message


def test_the_supervisor_stops_at_once_when_the_sink_port_is_taken(tmp_path):
    """Run the real script with the sink's port held: it exits 1 with the message, starting
    nothing (the web port is free)."""
    with socket.socket() as holder, socket.socket() as probe:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        sink = holder.getsockname()[1]
        probe.bind(("127.0.0.1", 0))
        web = probe.getsockname()[1]
        probe.close()
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "run_dev.py"), "--port", str(web)],
            env={"PATH": "/usr/bin:/bin", "SINK_PORT": str(sink)}, capture_output=True,
            text=True, timeout=30, check=False, cwd=tmp_path,
        )
    assert result.returncode == 1
    assert f"port {sink} (the mail sink) is already in use" in result.stderr
    assert f"SINK_PORT={sink + 1}" in result.stderr
