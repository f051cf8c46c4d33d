"""Notice rendering: plain-data context → HTML (templates/pdf/) → PDF (WeasyPrint)."""

from portal.documents.acknowledgement import acknowledgement_context, languages_for
from portal.documents.outcome_notice import outcome_context, render_outcome_notice
from portal.documents.pdf import (
    STATIC_DIR,
    RefusedResource,
    StaticOnlyFetcher,
    for_post,
    harfbuzz_subset_available,
    html_to_pdf,
    render_for_post,
    render_pdf,
)
from portal.documents.resolution_letters import (
    apology_context,
    completion_context,
    render_apology_letter,
    render_completion_notice,
)
from portal.documents.templating import DocumentError, render

__all__ = [
    "STATIC_DIR",
    "DocumentError",
    "RefusedResource",
    "StaticOnlyFetcher",
    "acknowledgement_context",
    "apology_context",
    "completion_context",
    "for_post",
    "harfbuzz_subset_available",
    "html_to_pdf",
    "languages_for",
    "outcome_context",
    "render",
    "render_apology_letter",
    "render_completion_notice",
    "render_for_post",
    "render_outcome_notice",
    "render_pdf",
]
