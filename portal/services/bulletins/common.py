"""What the bulletin verbs share: their error and the version check."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.models.bulletin import Bulletin
from portal.models.user import Role, User
from portal.services.intake.errors import IntakeError
from portal.services.triage.common import StaleVersion

TITLE_MAX = 200
BODY_MAX = 60_000


class BulletinError(IntakeError):
    """A rule of the bulletins said no (422); the message is translated and `errors` maps
    form fields to messages."""


def check_version(bulletin: Bulletin, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != bulletin.version:
        raise StaleVersion()


def require_partner(actor: User) -> None:
    if not actor.has_role(Role.PARTNER):
        raise BulletinError(_("Only partners draft, review and publish bulletins."))


def require_draft(actor: User, bulletin: Bulletin) -> None:
    require_partner(actor)
    if not bulletin.is_draft:
        raise BulletinError(_("This bulletin is no longer a draft: nothing was changed."))
