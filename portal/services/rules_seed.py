"""The rules catalogue as first seeded: article numbers and short titles only.

Every entry is marked `to_verify` ("to be verified by the firm"): a partner checks it against
the official text and marks it verified, edits it or deactivates it at /admin/rules. Plain
data, no imports: the migration that creates the table inserts these rows, and
`rules_catalogue.seed_rules` adds any that a database made without migrations lacks.

`article` is a short neutral reference, shown as a citation in the reader's language
(`rules_catalogue.citation`): "38" is an article (第38条 / Art. 38), "4.2" a chapter's
section (第4章第2节 / Ch. 4, s. 2), anything else (the firm's "FP-01") as written.
"""

from __future__ import annotations

# (source, article, title_zh, title_en)
SEED_RULES: tuple[tuple[str, str, str, str], ...] = (
    # 《中华人民共和国律师法》
    ("lawyers_law", "3", "遵守法律，恪守职业道德和执业纪律",
     "Observing the law, professional ethics and practice discipline"),
    ("lawyers_law", "23", "律师事务所的执业管理、利益冲突审查、收费与投诉查处制度",
     "The firm's practice management, conflict checks, fees and complaint handling"),
    ("lawyers_law", "25", "统一接受委托、签订书面委托合同、统一收费",
     "Engagement through the firm, written engagement contract, fees charged by the firm"),
    ("lawyers_law", "32", "接受委托后无正当理由不得拒绝辩护或者代理",
     "No refusal to act once engaged without a proper reason"),
    ("lawyers_law", "38", "保守秘密，不得泄露当事人隐私",
     "Confidentiality: secrets and the client's privacy"),
    ("lawyers_law", "39", "利益冲突：不得为双方代理或代理有利益冲突的事务",
     "Conflicts of interest: acting for both sides or against one's own interests"),
    ("lawyers_law", "40", "执业活动中的禁止行为",
     "Conduct prohibited in practice"),
    ("lawyers_law", "47", "律师违法行为的处罚（警告、罚款、停止执业）",
     "Penalties for lawyers: warning, fine, suspension"),
    ("lawyers_law", "48", "律师私自收案收费、拒绝代理、泄露秘密等行为的处罚",
     "Penalties for private fees, refusing to act, disclosing secrets"),
    ("lawyers_law", "50", "律师事务所违法行为的处罚",
     "Penalties for law firms"),
    ("lawyers_law", "54", "违法执业或因过错给当事人造成损失的赔偿责任",
     "Liability for loss caused by unlawful practice or fault"),
    # 全国律协《律师执业行为规范（试行）》
    ("acla_rules", "6", "忠于宪法和法律，恪守职业道德和执业纪律",
     "Loyalty to the law; professional ethics and practice discipline"),
    ("acla_rules", "7", "诚实守信，勤勉尽责",
     "Honesty and diligence"),
    ("acla_rules", "34", "就委托事项、权限、费用和期限协商并签订委托协议",
     "Agreeing scope, authority, fees and time limits in an engagement agreement"),
    ("acla_rules", "35", "依法律和委托协议完成委托事项",
     "Carrying out the engagement as the law and the agreement require"),
    ("acla_rules", "37", "按期办理委托事项，及时答复委托人询问",
     "Keeping to time limits; answering the client's enquiries promptly"),
    ("acla_rules", "38", "建立律师业务档案，保存完整工作记录",
     "Keeping the matter file and a complete record of the work"),
    ("acla_rules", "39", "妥善保管委托人提供的原件、原物等材料",
     "Safekeeping of originals and materials the client provides"),
    ("acla_rules", "40", "在委托权限内执业，不得超越委托权限",
     "Acting within the authority given"),
    ("acla_rules", "41", "无正当理由不得拒绝或者终止委托",
     "No refusal or termination of the engagement without a proper reason"),
    ("acla_rules", "51", "不得建立委托关系的利益冲突情形",
     "Conflicts that bar an engagement"),
    ("acla_rules", "52", "应告知委托人并取得同意的利益冲突情形",
     "Conflicts to disclose, with the client's informed consent"),
    ("acla_rules", "79", "不正当竞争行为（含对结果作虚假承诺）",
     "Unfair competition, including false promises about outcomes"),
    # 全国律协《律师协会会员违规行为处分规则（试行）》第四章
    ("acla_discipline", "4.1", "利益冲突行为", "Conflict of interest"),
    ("acla_discipline", "4.2", "代理不尽责行为", "Failing to act diligently for the client"),
    ("acla_discipline", "4.3", "泄露秘密或者隐私的行为", "Disclosing secrets or privacy"),
    ("acla_discipline", "4.4", "违规收案、收费的行为", "Improper engagement or fees"),
    ("acla_discipline", "4.5", "不正当竞争行为", "Unfair competition"),
    # The firm's own procedures
    ("firm_procedure", "FP-01", "投诉处理程序", "Complaint handling procedure"),
    ("firm_procedure", "FP-02", "利益冲突审查程序", "Conflict check procedure"),
    ("firm_procedure", "FP-03", "收费协议程序", "Fee agreement procedure"),
    ("firm_procedure", "FP-04", "案件进展报告程序", "Progress reporting procedure"),
    ("firm_procedure", "FP-05", "案卷档案管理程序", "File management procedure"),
)
