"""The investigator's workspace: the evidence register, both sides' statements, a
respondent's written reply through a signed link, interview notes and the chronology.

Each verb takes the actor and plain data, checks the rules, writes, audits (ids and codes
only) and flushes; it never commits, reads `flask.request` or renders a page.

- `common`: what the verbs share (who may use the workspace, whether it is still open,
  cleaning text and dates) and the domain errors;
- `register`: evidence added here, and opening an item (audited);
- `previews`: page 1 of a PDF or a downscaled image as PNG, cached on disk by SHA-256;
- `statements`: statements recorded by staff, with their attachments;
- `replies`: the respondent's signed link, the email, and the reply that becomes a statement;
- `notes`: interview notes;
- `workspace`: everything the page shows, loaded in a fixed number of queries, and the
  case file's summary;
- `chronology`: every dated item of the matter, in date order.
"""
