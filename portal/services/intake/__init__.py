"""Intake: the complaint record built section by section, read back, confirmed, registered.

Every function in these modules is a verb called by a route (or the import command): it
takes the actor and plain data, checks the rules, changes the record, writes the audit event
and flushes. It never commits, never reads `flask.request` or the app's configuration (the
caller passes what it needs), and renders nothing.

- `sections`: the draft and each section's save and rules;
- `confirmation`: verification, the read-back's points, confirmation and the signed link;
- `registration`: the reference, the deadline, the acknowledgement, mail sent again;
- `search`: suggestions while typing and the complaints list;
- `completeness`, `record`, `errors`: what they share.
"""
