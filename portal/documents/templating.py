"""A Jinja environment for documents that only ever sees plain data.

Notice and email templates render from dicts of primitives built for the purpose (see
`acknowledgement.py`): the environment is sandboxed, has no Flask globals (no `url_for`,
`request`, `current_user`, `config`) and undefined names fail loudly, so a template cannot
reach a model and leak something that was not meant for the client.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
ALLOWED_FOLDERS = ("pdf/", "emails/")


class DocumentError(Exception):
    """A document could not be rendered (unknown template, refused resource...)."""


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template_name: str, context: dict) -> str:
    if not template_name.startswith(ALLOWED_FOLDERS) or ".." in template_name:
        raise DocumentError(f"not a document template: {template_name}")
    return environment().get_template(template_name).render(**context)
