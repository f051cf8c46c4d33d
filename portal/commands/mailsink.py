"""`flask mailsink serve`: a local SMTP server for `make run` that keeps every message.

Each message is written as `<UTC time>-<random>.eml` into the directory (atomically: a
temporary file renamed into place), where /mailbox (MAIL_SINK_DIR) shows it. It accepts
mail for any recipient and relays nothing. Loopback only unless told otherwise.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
from pathlib import Path

import click
from aiosmtpd.controller import Controller
from flask.cli import AppGroup

from portal import clock

cli = AppGroup("mailsink", help="A local SMTP sink for development.")

MAX_MESSAGE_BYTES = 40 * 1024 * 1024


class MaildirSink:
    """aiosmtpd handler: every accepted message becomes one .eml file."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def new_name(self) -> str:
        stamp = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
        return f"{stamp}-{secrets.token_hex(4)}.eml"

    def store(self, data: bytes) -> Path:
        name = self.new_name()
        temporary = self.directory / f".{name}.tmp"
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        final = self.directory / name
        os.replace(temporary, final)
        return final

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        headers = (f"X-Sink-Envelope-From: {envelope.mail_from}\r\n"
                   f"X-Sink-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        path = self.store(headers + data)
        return f"250 OK stored as {path.name}"


def start_sink(directory: Path, host: str, port: int) -> Controller:
    controller = Controller(MaildirSink(directory), hostname=host, port=port,
                            data_size_limit=MAX_MESSAGE_BYTES, ready_timeout=10)
    controller.start()
    return controller


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=click.IntRange(1, 65535),
              envvar="SINK_PORT", help="Also read from SINK_PORT (make run sets --port).")
@click.option("--dir", "directory", default="instance/mail", show_default=True,
              type=click.Path(file_okay=False), help="Where to write the .eml files.")
def serve(host: str, port: int, directory: str) -> None:
    """Accept mail on HOST:PORT and write each message into DIR as an .eml file."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: stop.set())
    try:
        controller = start_sink(Path(directory), host, port)
    except (OSError, RuntimeError) as error:
        raise click.ClickException(f"Cannot listen on {host}:{port}: {error}") from error
    click.echo(f"Mail sink on {host}:{port}, writing to {Path(directory).resolve()}")
    try:
        stop.wait()
    finally:
        controller.stop()
        click.echo("Mail sink stopped.")
