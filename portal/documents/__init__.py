"""Notice rendering: plain-data context → HTML (templates/pdf/) → PDF (WeasyPrint)."""

from portal.documents.acknowledgement import acknowledgement_context, languages_for
from portal.documents.pdf import (
    STATIC_DIR,
    RefusedResource,
    StaticOnlyFetcher,
    harfbuzz_subset_available,
    html_to_pdf,
    render_pdf,
)
from portal.documents.templating import DocumentError, render

__all__ = [
    "STATIC_DIR",
    "DocumentError",
    "RefusedResource",
    "StaticOnlyFetcher",
    "acknowledgement_context",
    "harfbuzz_subset_available",
    "html_to_pdf",
    "languages_for",
    "render",
    "render_pdf",
]
