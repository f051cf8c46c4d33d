"""Partners keep the rules catalogue (/admin/rules): add an entry, edit its titles, mark it
verified, deactivate or reactivate it. Findings choose from the active entries."""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.db import db
from portal.i18n import client_language
from portal.models.investigation import RULE_SOURCE_LABELS, RuleArticle, RuleSource
from portal.models.user import Role
from portal.security import roles
from portal.services import rules_catalogue as rules
from portal.services.intake.errors import IntakeError
from portal.web import htmx
from portal.web.intake.context import attach

bp = Blueprint("rules", __name__, url_prefix="/admin/rules")


def _title_fields():
    too_long = _l("A title has at most %(max)d characters.", max=rules.TITLE_MAX)
    return (
        StringField(_l("Title in Chinese"), validators=[
            InputRequired(_l("Enter the title in both languages.")),
            Length(max=rules.TITLE_MAX, message=too_long)]),
        StringField(_l("Title in English"), validators=[
            InputRequired(_l("Enter the title in both languages.")),
            Length(max=rules.TITLE_MAX, message=too_long)]),
        BooleanField(_l("To be verified by the firm")),
    )


class RuleAddForm(FlaskForm):
    source = SelectField(_l("Source"), render_kw={"required": False})
    article = StringField(_l("Article or code"), validators=[
        InputRequired(_l("Enter the article number or the procedure's code.")),
        Length(max=rules.ARTICLE_MAX, message=_l(
            "An article reference is one line of at most %(max)d characters.",
            max=rules.ARTICLE_MAX))])
    title_zh, title_en, to_verify = _title_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = [SelectChoice(s.value, RULE_SOURCE_LABELS[s]) for s in RuleSource]


class RuleEditForm(FlaskForm):
    title_zh, title_en, to_verify = _title_fields()
    active = BooleanField(_l("Active: findings may cite it"))


def _context(form: RuleAddForm | None = None, note: str | None = None) -> dict:
    return {"rules": rules.catalogue(), "form": form or RuleAddForm(formdata=None),
            "source_labels": RULE_SOURCE_LABELS, "citation": rules.citation,
            "lang": client_language(), "note": note}


def _titles(form) -> rules.RuleTitles:
    return rules.RuleTitles(form.title_zh.data, form.title_en.data, form.to_verify.data)


def _commit(form, change):
    """Run the service through htmx.write; a refusal goes onto the form (None returned)."""
    def refused(error: Exception, _status: int) -> None:
        if not isinstance(error, IntakeError):
            raise error
        attach(form, error)

    try:
        return htmx.write(change, done=lambda result: result, refused=refused)
    except IntegrityError:  # two partners adding the same article at once
        db.session.rollback()
        form.article.errors = [*form.article.errors,
                               _("This article is already in the catalogue: edit it instead.")]
        return None


@bp.route("")
@roles(Role.PARTNER)
def index():
    return htmx.page_or_partial("rules/index.html", "rules/_catalogue.html", **_context())


@bp.route("", methods=["POST"])
@roles(Role.PARTNER)
def add():
    form = RuleAddForm()
    added = None
    if form.validate_on_submit():
        added = _commit(form, lambda: rules.add_rule(
            current_user, source=form.source.data, article=form.article.data,
            titles=_titles(form)))
    if added is None:
        return htmx.answer("rules/_catalogue.html", "rules/index.html",
                           lambda _full: _context(form), status=422)
    note = _("Added to the catalogue.")
    if not htmx.wants_fragment():
        flash(note, "ok")
    return htmx.answer("rules/_catalogue.html", "rules/index.html",
                       lambda _full: _context(note=note), redirect_to=url_for("rules.index"))


def _load(rule_id: int) -> RuleArticle:
    rule = db.session.get(RuleArticle, rule_id)
    if rule is None:
        abort(404)
    return rule


def _edit_page(rule: RuleArticle, form: RuleEditForm, status: int = 200):
    context = {"rule": rule, "form": form, "source_labels": RULE_SOURCE_LABELS,
               "citation": rules.citation, "lang": client_language()}
    return htmx.page_or_partial("rules/edit.html", "rules/_edit.html", status=status, **context)


@bp.route("/<int:rule_id>")
@roles(Role.PARTNER)
def edit(rule_id: int):
    rule = _load(rule_id)
    form = RuleEditForm(formdata=None, data={
        "title_zh": rule.title_zh, "title_en": rule.title_en, "to_verify": rule.to_verify,
        "active": rule.active})
    return _edit_page(rule, form)


@bp.route("/<int:rule_id>", methods=["POST"])
@roles(Role.PARTNER)
def update(rule_id: int):
    rule = _load(rule_id)
    form = RuleEditForm()
    saved = None
    if form.validate_on_submit():
        saved = _commit(form, lambda: rules.update_rule(
            current_user, _load(rule_id), titles=_titles(form), active=form.active.data))
    if saved is None:
        return _edit_page(db.session.get(RuleArticle, rule_id) or rule, form, 422)
    flash(_("Catalogue entry saved."), "ok")
    return htmx.redirect(url_for("rules.index"))
