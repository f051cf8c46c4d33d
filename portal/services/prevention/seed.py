"""The matter types and checklist templates a new installation starts with (the migration
and the demo seed insert them; partners then edit them in the browser)."""

from __future__ import annotations

from portal.models.prevention import Stage

# (code, label_zh, label_en, report interval in days)
MATTER_TYPE_SEED = (
    ("litigation", "民商事诉讼", "Civil and commercial litigation", 30),
    ("arbitration", "仲裁", "Arbitration", 30),
    ("corporate", "公司与商事非诉", "Corporate and commercial advisory", 45),
    ("family", "婚姻家事", "Family", 30),
    ("ip", "知识产权", "Intellectual property", 30),
    ("labour", "劳动争议", "Employment disputes", 21),
)

# (stage, label_zh, label_en, needs a document) for every type, in order.
STANDARD_PROCEDURE = (
    (Stage.RECEPTION, "接待客户并记录来访事由", "Client received and the request recorded",
     False),
    (Stage.CONFLICT_CHECK, "完成利益冲突检索并留存结果", "Conflict check done and its result kept",
     True),
    (Stage.ENGAGEMENT, "签订委托代理合同", "Engagement contract signed", True),
    (Stage.ENGAGEMENT, "向客户说明收费方式并出具费用预估",
     "Fees explained and an estimate given to the client", False),
    (Stage.ENGAGEMENT, "向客户提供律所投诉处理程序",
     "The firm's complaints procedure given to the client", False),
    (Stage.STRATEGY, "与客户讨论办案策略、风险和可能结果",
     "Strategy, risks and likely outcomes discussed with the client", False),
    (Stage.PROGRESS, "按约定周期向客户报告进展", "Progress reported to the client as agreed",
     False),
    (Stage.CLOSING, "向客户送达结案报告", "Closing report sent to the client", True),
    (Stage.CLOSING, "退还客户原件并取得签收", "Client's originals returned against a receipt",
     False),
    (Stage.ARCHIVING, "卷宗整理归档", "File put in order and archived", False),
)
# Steps only some types have, per type code; placed with their stage.
EXTRA_STEPS = {
    "litigation": ((Stage.STRATEGY, "庭前向客户说明庭审安排和准备事项",
                    "Hearing arrangements and preparation explained before each hearing",
                    False),),
    "arbitration": ((Stage.STRATEGY, "庭前向客户说明仲裁庭审安排",
                     "Hearing arrangements explained before each arbitration hearing", False),),
    "corporate": ((Stage.CLOSING, "交付最终法律意见书或交易文件",
                   "Final opinion or transaction documents delivered", True),),
}


def template_for(code: str) -> list[tuple[Stage, str, str, bool]]:
    """The checklist a type starts with: the standard procedure plus its own steps, in stage
    order."""
    order = list(Stage)
    steps = list(STANDARD_PROCEDURE) + list(EXTRA_STEPS.get(code, ()))
    return sorted(steps, key=lambda step: order.index(step[0]))
