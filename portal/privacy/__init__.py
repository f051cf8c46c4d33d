"""The redaction engine: text and the parties the portal knows in, anonymised text out.

It never reads the database. `redact(text, parties)` answers the redacted text and every
replacement with its offsets into the input; see docs in engine.py and labels.py.
"""

from portal.privacy.engine import redact
from portal.privacy.model import (
    KINDS,
    MAX_CHARS,
    Party,
    Redaction,
    Replacement,
    TextTooLong,
    party_from_dict,
)
from portal.privacy.segmentation import warm_up

__all__ = ["KINDS", "MAX_CHARS", "Party", "Redaction", "Replacement", "TextTooLong",
           "party_from_dict", "redact", "warm_up"]
