"""Blueprints, one module per area."""

from __future__ import annotations

from flask import Flask

from portal.web import (
    admin,
    analytics,
    auth,
    ballots,
    bulletins,
    calendar,
    client_answers,
    client_page,
    deadlines,
    decision,
    findings,
    followup,
    home,
    improvement,
    intake,
    investigation,
    mailbox,
    matters,
    public,
    readback,
    remedies,
    rules,
    triage,
)


def register_blueprints(app: Flask) -> None:
    for area in (auth, home, admin, intake, readback, public, calendar, mailbox, investigation):
        app.register_blueprint(area.bp)
    for area in (findings, rules):  # the first response, the findings, the rules catalogue
        app.register_blueprint(area.bp)
    app.register_blueprint(triage.bp)  # triage, closure, withdrawal, conflicts, assignment
    app.register_blueprint(deadlines.bp)  # the clocks: the case file header, pause/resume
    app.register_blueprint(client_page.bp)  # the client's page (/c/<token>), a lost link
    app.register_blueprint(client_answers.bp)  # the client's answer on the case file
    app.register_blueprint(ballots.bp)  # committee ballots: votes, recusal, the case file area
    app.register_blueprint(decision.bp)  # the decision, outcome notices, posting, recourse
    app.register_blueprint(remedies.bp)  # remedy tasks: start, reassign, complete, receipts
    app.register_blueprint(bulletins.bp)  # the bulletin board, drafting and review
    app.register_blueprint(analytics.bp)  # figures, charts, exports, the quarterly report
    app.register_blueprint(improvement.bp)  # root-cause catalogue, improvement actions
    app.register_blueprint(followup.bp)  # call-backs, the client's survey, closing
    app.register_blueprint(matters.bp)  # matters, expectations, checklists, reports, types
