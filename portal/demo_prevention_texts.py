"""The words of the demo's prevention records (portal/demo_prevention.py): what was agreed at
engagement, and what the progress reports told the client, in Chinese and in English."""

from __future__ import annotations

from portal.models.prevention import Expectation

FEES, RISKS = Expectation.FEES.value, Expectation.RISKS.value

SCOPE = {
    "litigation": "代理本案一审诉讼：起草起诉状和代理词、组织证据、出庭；二审和执行阶段另行委托。",
    "arbitration": "代理本案仲裁程序：起草仲裁申请书、组织证据、参加仲裁庭审。",
    "family": "代理离婚诉讼及财产分割谈判；房产过户等后续手续不在委托范围内。",
    "labour": "代理劳动仲裁及可能的一审诉讼，包括起草仲裁申请书和出庭。",
    "corporate": "就本次交易进行法律尽职调查，起草和审阅交易文件，直至交割完成。",
    "ip": "代理商标侵权诉讼一审，包括证据保全公证、侵权比对和出庭。",
}
SCOPE_EN = ("First-instance proceedings: drafting the pleadings, assembling the evidence and "
            "attending the hearings; an appeal or enforcement is a separate engagement.")
SCOPE_EN_CORPORATE = ("Legal due diligence, then drafting and review of the transaction "
                      "documents up to completion.")
FEES_TEXT = (
    "固定收费{amount}元，签约时支付一半，结案时支付余款；诉讼费、鉴定费等实际支出另计，预估{costs}元。",
    "基础律师费{amount}元，另按实际回款的{pct}%收取风险代理费；已向客户书面说明并出具费用预估。",
    "按小时计费，每小时{rate}元，预估总额{amount}元；超出预估前先征得客户同意。",
)
FEES_EN = (
    "Fixed fee of CNY {amount}, half on signing and half on conclusion; court and expert fees "
    "are extra, estimated at CNY {costs}.",
    "Hourly rate of CNY {rate}, estimated at CNY {amount} in all; the client is asked before "
    "the estimate is exceeded.",
)
RISKS_TEXT = (
    "现有证据对合同履行情况的证明力不足，部分请求可能不被支持。",
    "对方的偿付能力存疑，即使胜诉也可能存在执行困难。",
    "诉讼时效可能存在争议，需要补充时效中断的证据。",
    "对方可能提出反诉，办案周期和费用会相应增加。",
    "关键证人是否愿意出庭作证尚不确定。",
)
RISKS_CORPORATE = (
    "目标公司可能存在未披露的债务和对外担保。",
    "审批时间存在不确定性，可能影响交割时间表。",
    "卖方的陈述与保证范围有限，交割后追索的空间不大。",
)
RISKS_EN_CORPORATE = (
    "The target company may have undisclosed debts or guarantees.",
    "Regulatory approval may take longer than planned.",
    "The seller's warranties are narrow, so there is little recourse after completion.",
)
RISKS_EN = (
    "The evidence of performance is thin, so part of the claim may fail.",
    "The other side may be unable to pay, so enforcement may be difficult.",
    "The other side may counterclaim, which would add time and cost.",
)
OUTCOMES_TEXT = {
    "corporate": "预计交易可按计划交割；如尽职调查发现重大问题，可能需要调整价格或终止交易。",
    "family": "预计可分得共同财产的四至六成；子女抚养权取决于双方的抚养条件，也可能调解解决。",
    "labour": "预计可获得经济补偿和加班费合计{lo}万至{hi}万元；用人单位可能起诉，程序会延长。",
}
OUTCOMES_DEFAULT = ("较好的结果是获得约{hi}万元的赔偿；较可能的结果是调解结案，"
                    "金额在{lo}万至{hi}万元之间；也存在请求被驳回的可能。")
OUTCOMES_EN = ("The best realistic result is about CNY {hi}0,000; a settlement between CNY "
               "{lo}0,000 and {hi}0,000 is more likely; the claim may also fail.")
OUTCOMES_EN_CORPORATE = ("The transaction should complete as planned; a serious finding in "
                         "the due diligence could mean a lower price or no deal.")
TIMETABLE_TEXT = {
    "labour": "仲裁预计{months}个月内作出裁决；如进入诉讼程序，另需六个月左右。",
    "corporate": "预计{months}个月内完成尽职调查和交割。",
}
TIMETABLE_DEFAULT = "一审预计{months}个月内审结；如对方提出管辖权异议或申请鉴定，将延长一到三个月。"
TIMETABLE_EN = ("First instance is expected to take about {months} months; a jurisdiction "
                "challenge or expert evidence would add one to three months.")
TIMETABLE_EN_CORPORATE = "Due diligence and completion are expected within {months} months."
COMPLAINTS_TEXT = "已向客户提供《客户投诉处理办法》，并说明投诉渠道和处理时限。"
COMPLAINTS_EN = ("The firm's complaints procedure was given to the client, with how to "
                 "complain and the time limits.")
REVISED = {FEES: "因案件增加了鉴定程序，经客户同意，费用预估调整为{amount}元。",
           Expectation.TIMETABLE.value: "因法院延期开庭，预计审结时间推迟{months}个月。"}
REVISED_EN = {FEES: "An expert report was added; with the client's agreement the estimate is "
                    "now CNY {amount}.",
              Expectation.TIMETABLE.value: "The court postponed the hearing; the matter should "
                                           "now take {months} months longer."}

# Report summaries: what happened, sometimes what came up, what comes next.
FIRST = {
    "litigation": "已完成起诉状和证据目录的起草，并向法院递交立案材料，法院已受理。",
    "arbitration": "已向仲裁委员会提交仲裁申请书及证据，仲裁委已受理并向对方送达。",
    "family": "已与您确认离婚诉讼的主要诉求，并向法院递交了起诉材料。",
    "labour": "已向劳动人事争议仲裁委员会提交仲裁申请，仲裁委已立案受理。",
    "corporate": "已启动尽职调查，向目标公司发出第一批资料清单。",
    "ip": "已对侵权商品进行公证购买，并向法院递交起诉材料。",
}
COURT = (
    "法院组织了证据交换，双方已完成举证和质证。",
    "案件已开庭审理，庭审围绕合同履行和违约责任进行了辩论。",
    "对方提交了答辩状和补充证据，我们已整理书面质证意见。",
    "法院主持调解，对方提出的方案与您的预期仍有较大差距。",
    "已向法院申请财产保全，法院已裁定冻结对方银行账户。",
    "法院通知延期开庭，新的开庭日期尚待确定。",
)
HAPPENED = {
    "litigation": COURT,
    "arbitration": COURT,
    "family": ("已调取双方名下房产和银行账户的登记信息。",
               "法院组织了调解，双方在子女抚养问题上仍有分歧。",
               "已与对方律师就财产分割方案进行沟通，对方同意进一步协商。",
               "案件已开庭审理，法官要求双方补充共同财产的证明材料。"),
    "labour": ("仲裁庭已开庭审理，用人单位对加班费的计算方式提出异议。",
               "已收到用人单位提交的考勤记录，我们正在核对其中不一致之处。",
               "仲裁委组织了调解，用人单位愿意支付部分经济补偿。",
               "已收到仲裁裁决书，裁决支持了大部分仲裁请求。"),
    "corporate": ("已完成尽职调查报告初稿，发现目标公司存在两项未披露的对外担保。",
                  "已就股权转让协议提出修改意见，并与对方律师进行了两轮谈判。",
                  "已出具关于交易结构的法律意见书初稿，供您审阅。",
                  "交割先决条件中的审批事项已基本完成。"),
    "ip": ("对方提出管辖权异议，法院尚未作出裁定。",
           "已向法院提交商标使用证据和侵权比对意见。",
           "已向国家知识产权局提交商标无效宣告答辩材料。",
           "法院组织了庭前会议，明确了侵权比对的争议焦点。"),
}
PROBLEMS = (
    "对方申请延期举证，进度可能推迟一个月左右。",
    "部分证据原件尚未提供，请您尽快补充。",
    "法院排期较满，结果可能晚于原先的预计。",
    "对方提出了新的抗辩理由，我们需要补充证据应对。",
    "需要预缴鉴定费用约{amount}元，请您确认。",
)
NEXT = (
    "下一步我们将准备代理意见，并在提交前与您再次沟通。",
    "我们将在十日内提交补充材料，届时再向您报告。",
    "下次开庭前一周会通知您需要准备的事项。",
    "请您考虑对方的调解方案，我们可以安排面谈详细说明。",
    "如有新的进展，我们会第一时间通知您。",
)
PROBLEMS_CORPORATE = (
    "卖方迟迟未提供部分财务资料，尽职调查可能延后一到两周。",
    "目标公司的一项经营许可即将到期，需要在交割前完成续期。",
)
NEXT_CORPORATE = (
    "我们将在一周内提交尽职调查报告终稿。",
    "下一步将与对方确定交易文件的最终文本，并安排签约。",
    "如有新的进展，我们会第一时间通知您。",
)
CLOSING = ("案件已结案，结案报告已送达您，原件已全部退还。",
           "本案已办结，我们已向您送达结案报告，并说明了后续注意事项。")
FIRST_EN = "We have filed the claim and the supporting evidence; the court has accepted the case."
FIRST_EN_CORPORATE = ("We have started the due diligence and sent the first document request to "
                      "the target company.")
HAPPENED_EN_CORPORATE = (
    "The first draft of the due diligence report is ready; it finds two guarantees the target "
    "company had not disclosed.",
    "We have sent our comments on the share purchase agreement and had two rounds of "
    "negotiation with the seller's counsel.",
    "The approvals among the conditions to completion are nearly all in place.",
)
HAPPENED_EN = (
    "The court held an exchange of evidence; both sides have commented on each other's "
    "documents.",
    "The hearing took place; the arguments were about performance of the contract and the "
    "damages claimed.",
    "The other side filed its defence and further evidence; we have prepared our written "
    "comments.",
    "The court proposed a settlement; the other side's offer is still well below your "
    "expectations.",
)
PROBLEMS_EN = (
    "The other side asked for more time to submit evidence, which may delay matters by about a "
    "month.",
    "We still need some original documents from you.",
    "The court's calendar is full, so a judgment may come later than we first expected.",
)
NEXT_EN = (
    "We will prepare our written submissions and discuss them with you before filing.",
    "We will write again as soon as there is news.",
    "We will tell you a week before the next hearing what to prepare.",
)
PROBLEMS_EN_CORPORATE = (
    "The seller has still not provided some of the financial records, which may delay the due "
    "diligence by a week or two.",
)
NEXT_EN_CORPORATE = (
    "We will send the final due diligence report within a week.",
    "Next we will agree the final text of the transaction documents and arrange the signing.",
)
CLOSING_EN = ("The matter is concluded: our closing report has been sent and your original "
              "documents returned.")
