"""The routes of further recourse as first seeded, per jurisdiction. Plain data, no imports:
the migration that creates the table inserts these rows, and `recourse.seed_defaults` adds any
that a database made without migrations (the tests', a demo's) lacks."""

from __future__ import annotations

# The routes of further recourse a client is told about, per jurisdiction; partners edit
# them at /admin/recourse. "UK" stands for England and Wales (the Legal Ombudsman's remit).
RECOURSE_SEED: dict[str, tuple[str, str]] = {
    "PRC": (
        "如您对本所的处理结果仍不满意，可以：\n"
        "1. 向本所执业地的律师协会投诉（各地律师协会设有会员纪律或维权部门，可通过其官方网站"
        "或办公地址查询投诉方式）；\n"
        "2. 向本所执业地的县级以上司法行政机关（司法局）投诉；\n"
        "3. 拨打12348公共法律服务热线咨询投诉途径。\n"
        "以上途径不影响您依法享有的其他权利，包括就收费争议申请调解、仲裁或提起诉讼。",
        "If you are still not satisfied with the firm's decision, you may:\n"
        "1. complain to the lawyers' association where the firm practises (each local "
        "association has a department for members' discipline; its website or office gives "
        "the way to complain);\n"
        "2. complain to the judicial administration bureau (司法局) at county level or above "
        "where the firm practises;\n"
        "3. call the public legal services hotline 12348 to be told where to complain.\n"
        "These routes do not affect your other rights, including mediation, arbitration or a "
        "court action over a fee dispute.",
    ),
    "UK": (
        "如您对本所的最终答复仍不满意，可以向法律监察专员（Legal Ombudsman）投诉：\n"
        "邮寄：PO Box 6167, Slough, SL1 0EH, United Kingdom\n"
        "电话：0300 555 0333（英国境外：+44 121 245 3050）\n"
        "电子邮件：enquiries@legalombudsman.org.uk\n"
        "网站：www.legalombudsman.org.uk\n"
        "您须在收到本所最终答复之日起六个月内向法律监察专员投诉。",
        "If you are not satisfied with our final response, you may complain to the Legal "
        "Ombudsman:\n"
        "Post: PO Box 6167, Slough, SL1 0EH\n"
        "Phone: 0300 555 0333 (from outside the UK: +44 121 245 3050)\n"
        "Email: enquiries@legalombudsman.org.uk\n"
        "Website: www.legalombudsman.org.uk\n"
        "You must complain to the Legal Ombudsman within six months of our final response.",
    ),
}
