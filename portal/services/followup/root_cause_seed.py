"""The root-cause catalogue as first seeded. Plain data, no imports: the migration that creates
the table inserts these rows, and `root_causes.seed_defaults` adds any that a database made
without migrations lacks. Partners edit the catalogue at /admin/root-causes."""

from __future__ import annotations

# (code, label_zh, label_en, needs_text)
ROOT_CAUSE_SEED: tuple[tuple[str, str, str, bool], ...] = (
    ("expectations", "委托时未明确客户预期", "Expectations not set at engagement", False),
    ("no_progress_report", "未报告案件进展", "No progress report", False),
    ("fees_not_explained", "未解释收费", "Fees not explained", False),
    ("staff_attitude", "工作人员态度", "Staff attitude", False),
    ("missed_deadline", "错过期限", "Missed deadline", False),
    ("conflict_not_checked", "未进行利益冲突审查", "Conflict not checked", False),
    ("quality_of_work", "工作质量", "Quality of work", False),
    ("other", "其他（请说明）", "Other (say what)", True),
)
