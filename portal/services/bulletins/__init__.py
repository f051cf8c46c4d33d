"""Anonymized bulletins: a partner drafts one from a finished complaint (drafting), reviews
every replacement the redaction engine made and anything it still flags (review), then
publishes it to the board or withdraws it (publishing). The engine is portal/privacy/; the
parties it is told about come from the record (parties)."""
