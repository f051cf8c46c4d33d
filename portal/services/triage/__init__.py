"""The investigation's first steps: triage (or closure at triage), the client's withdrawal,
the numbered allegations, declared conflicts and conflict-free assignment.

- `triage`: `triage()` and `revise()` (registered → triaged; the severity may change until
  the findings are submitted), `eligible_handlers()`;
- `closure`: `close()` as out of scope or as a duplicate of another visible complaint;
- `withdrawal`: `withdraw()` at any stage before closed;
- `allegations`: `add()`, `amend()`, `remove()` until the findings are submitted;
- `conflicts`: `declare()` (one's own, or a partner records someone else's);
- `assignment`: `candidates()`, `assign()` (lead and investigators; history kept);
- `letters`: the bilingual emails to the client (closure, withdrawal) and to assignees.

Every verb takes the actor and plain data, checks the state and the version the page was
loaded at, writes its audit event (ids and codes only) and queues its mail; it flushes and
never commits.
"""
