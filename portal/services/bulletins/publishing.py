"""Publishing and withdrawing a bulletin.

Publishing is refused while the engine still flags something in the text. When the firm
requires a second partner (BULLETIN_SECOND_PARTNER), the partner who drafted it cannot
publish it: another partner reads it and publishes. Either way the draft's link to the
complaint, its source text and its replacements are deleted in the same write, so the
published bulletin keeps the text, the month, the categories and the rules engaged, and
nothing else. Withdrawing a draft discards it the same way; withdrawing a published bulletin
takes it off the board.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from portal import clock
from portal.models.bulletin import Bulletin, BulletinStatus
from portal.models.user import User
from portal.privacy import Party
from portal.services import audit
from portal.services.bulletins.common import (
    BulletinError,
    check_version,
    require_draft,
    require_partner,
)
from portal.services.bulletins.review import flags


def needs_second_partner() -> bool:
    return bool(current_app.config.get("BULLETIN_SECOND_PARTNER"))


def _forget_the_source(bulletin: Bulletin) -> None:
    bulletin.complaint_id = None
    bulletin.source_text = None
    bulletin.replacements = None
    bulletin.kept = None


def publish(actor: User, bulletin: Bulletin, parties: Sequence[Party], *,
            expected_version: int | None) -> None:
    require_draft(actor, bulletin)
    check_version(bulletin, expected_version)
    open_flags = flags(bulletin, parties)
    if open_flags:
        raise BulletinError(ngettext(
            "%(num)d text in the draft still looks like an identity from the record: "
            "replace it or keep it with a reason before publishing.",
            "%(num)d texts in the draft still look like identities from the record: "
            "replace or keep each with a reason before publishing.", len(open_flags)))
    if needs_second_partner() and actor.id == bulletin.created_by_id:
        raise BulletinError(_("The firm requires a second partner: another partner reads "
                              "this draft and publishes it."))
    now = clock.now()
    bulletin.status = BulletinStatus.PUBLISHED
    bulletin.published_at, bulletin.published_by_id = now, actor.id
    bulletin.updated_at = now
    _forget_the_source(bulletin)
    audit.record("bulletin.published", actor=actor, obj=bulletin, details={
        "categories": bulletin.categories, "second_partner": needs_second_partner()})


def withdraw(actor: User, bulletin: Bulletin, *, expected_version: int | None) -> None:
    require_partner(actor)
    check_version(bulletin, expected_version)
    if bulletin.status == BulletinStatus.WITHDRAWN:
        raise BulletinError(_("This bulletin was withdrawn already."))
    was = bulletin.status
    now = clock.now()
    bulletin.status = BulletinStatus.WITHDRAWN
    bulletin.withdrawn_at, bulletin.withdrawn_by_id = now, actor.id
    bulletin.updated_at = now
    _forget_the_source(bulletin)
    audit.record("bulletin.withdrawn", actor=actor, obj=bulletin, details={"was": str(was)})
