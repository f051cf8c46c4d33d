"""`flask redact`: the redaction engine on standard input and output, for one text or many.

    echo '{"text": "...", "parties": [{"role": "client", "name": "..."}]}' | flask redact
    flask redact --jsonl < texts.jsonl > redacted.jsonl

Answers {"text": ..., "replacements": [{"start", "end", "kind", "label"}]} with offsets into
the input text. Bad input (invalid JSON, a field of the wrong type, a text over 200,000
characters) is named on standard error with exit code 1, and nothing is written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

import click

from portal.privacy import MAX_CHARS, Party, Redaction, party_from_dict, redact

_FIELDS = ("text", "parties", "language")


class BadRequest(ValueError):
    """The input names a field that is missing or of the wrong type."""


def parse_request(data: Any) -> tuple[str, list[Party], str | None]:
    if not isinstance(data, Mapping):
        raise BadRequest("the input must be a JSON object with a \"text\" field")
    unknown = sorted(str(key) for key in data if key not in _FIELDS)
    if unknown:
        raise BadRequest(f"unknown field: {unknown[0]} (expected text, parties, language)")
    text = data.get("text")
    if not isinstance(text, str):
        raise BadRequest("text is missing" if text is None else "text must be a string")
    if len(text) > MAX_CHARS:
        raise BadRequest(f"text is {len(text)} characters long; the limit is {MAX_CHARS}")
    raw_parties = data.get("parties", [])
    if raw_parties is None:
        raw_parties = []
    if not isinstance(raw_parties, list):
        raise BadRequest("parties must be a list of objects")
    try:
        parties = [party_from_dict(item, index=index) for index, item in enumerate(raw_parties)]
    except ValueError as error:
        raise BadRequest(str(error)) from error
    language = data.get("language")
    if language is not None and language not in ("zh", "en"):
        raise BadRequest("language must be \"zh\" or \"en\"")
    return text, parties, language


def as_json(redaction: Redaction) -> str:
    return json.dumps({
        "text": redaction.text,
        "replacements": [{"start": r.start, "end": r.end, "kind": r.kind, "label": r.label}
                         for r in redaction.replacements],
    }, ensure_ascii=False)


def _decode(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise BadRequest(f"invalid JSON: {error.msg} at line {error.lineno} column "
                         f"{error.colno}") from error


def _fail(message: str) -> NoReturn:
    click.echo(f"redact: {message}", err=True)
    sys.exit(1)


@click.command("redact")
@click.option("--jsonl", is_flag=True,
              help="One JSON object per line in, one per line out, with a progress bar.")
def cli(jsonl: bool) -> None:
    """Redact the JSON {"text": ..., "parties": [...]} read on standard input."""
    stdin = sys.stdin
    if not jsonl:
        try:
            text, parties, language = parse_request(_decode(stdin.read()))
        except BadRequest as error:
            _fail(str(error))
        click.echo(as_json(redact(text, parties, language=language)))
        return
    requests = []
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            requests.append(parse_request(_decode(line)))
        except BadRequest as error:
            _fail(f"line {number}: {error}")
    stdout = sys.stdout
    with click.progressbar(requests, label="Redacting", file=sys.stderr,
                           show_pos=True) as bar:
        for text, parties, language in bar:
            stdout.write(as_json(redact(text, parties, language=language)) + "\n")
    stdout.flush()
