"""The redaction engine: recorded parties in every form of their name, people and firms
nobody recorded, consistent labels, and the ordinary words that must stay."""

from __future__ import annotations

from portal.privacy import Party, redact

CLIENT = Party("client", "徐建华", aliases=("Jack Xu",), phone="13912345678",
               email="jack@example.com", organisation="上海某某科技有限公司")
LAWYER = Party("lawyer", "方敏", organisation="北京市盈科律师事务所")


def labelled(text: str, *parties: Party, language: str | None = None) -> dict[str, str]:
    """{what was replaced: its label}."""
    result = redact(text, parties, language=language)
    return {text[r.start:r.end]: r.label for r in result.replacements}


def test_every_form_of_a_recorded_name_gets_the_same_label():
    text = ("徐建华来电。建华说，徐先生已委托律师。小徐、Xu Jianhua、Jianhua Xu、XU Jian-hua、"
            "Xu Jian Hua、Mr. Xu 和 Jack Xu 都是他。")
    found = labelled(text, CLIENT)
    for form in ("徐建华", "建华", "徐先生", "小徐", "Xu Jianhua", "Jianhua Xu", "XU Jian-hua",
                 "Xu Jian Hua", "Mr. Xu", "Jack Xu"):
        assert found.get(form) == "客户甲", form
    assert "徐" not in redact(text, [CLIENT]).text


def test_english_text_gets_english_labels_in_one_letter_sequence():
    text = "Mr Xu told Lawyer Fang that Ms He had called. Dr Xu agreed; jianhua xu signed."
    result = redact(text, [CLIENT, LAWYER, Party("other", "何丽")])
    assert result.text == ("Client A told Lawyer B that Third party C had called. "
                           "Client A agreed; Client A signed.")


def test_latin_forms_respect_word_boundaries_and_english_words():
    text = "He said Xuan and Jianhuaxu met; the lawyer has a fang-like grin."
    assert redact(text, [CLIENT, LAWYER, Party("other", "何丽")]).text == text


def test_two_recorded_people_sharing_a_surname():
    wang_lawyer = Party("lawyer", "王立新")
    wang_client = Party("client", "王芳")
    text = "王芳投诉王律师。王先生是谁？王府井的王牌产品，王是个姓。"
    result = redact(text, [wang_client, wang_lawyer])
    found = {text[r.start:r.end]: r.label for r in result.replacements}
    assert found["王芳"] == "客户甲"
    assert found["王律师"] == "律师乙"  # the title says which 王
    assert "王先生" in found  # ambiguous, still removed
    assert "王府井" in result.text and "王是个姓" in result.text and "王牌产品" in result.text


def test_organisations_and_their_short_forms():
    text = "上海某某科技有限公司拒付，某某科技公司的法务说某某科技不认账；盈科所代理。"
    found = labelled(text, CLIENT, LAWYER)
    assert found["上海某某科技有限公司"] == found["某某科技公司"] == found["某某科技"] == "某公司甲"
    assert found["盈科所"] == "某律所乙"
    english = labelled("Harbour Trading Co., Ltd. sued; Harbour Trading lost.",
                       Party("other", organisation="Harbour Trading Co., Ltd."))
    assert set(english.values()) == {"Company A"}


def test_recorded_phone_and_email_in_other_writings():
    result = redact("call 139 1234 5678 or JACK@EXAMPLE.COM", [CLIENT])
    assert result.text == "call [phone] or [email]"


def test_people_nobody_recorded_are_third_parties_with_their_own_letters():
    text = "她的丈夫林志强和证人何志明都在场。被告代理人陈红梅称，林志强没有签字。"
    result = redact(text, [CLIENT])
    assert result.text == ("她的丈夫第三人甲和证人第三人乙都在场。"
                           "被告代理人第三人丙称，第三人甲没有签字。")


def test_surname_titles_of_unrecorded_people_but_not_prepositions():
    text = "陈总和蒋女士、贺律师、小魏、老梁都到了。向律师表示不满，关于于先生，王总结了经验。"
    result = redact(text)
    for gone in ("陈总", "蒋女士", "贺律师", "小魏", "老梁", "于先生"):
        assert gone not in result.text
    assert "向律师表示不满" in result.text and "王总结了经验" in result.text


def test_unrecorded_latin_names_by_title_and_pinyin_pairs():
    text = "Mr Zhang met Zhang Wei and Ms Carter in Hong Kong; Wei Zhang then left."
    result = redact(text)
    assert result.text == ("Third party A met Third party A and Third party B in Hong Kong; "
                           "Third party A then left.")


def test_names_that_are_ordinary_words_only_in_context():
    ordinary = "手段高明，窗外下着白雪，金山银山不如绿水青山。高明的做法。"
    assert redact(ordinary).text == ordinary
    named = "对方律师高明说不同意。"
    assert "高明" not in redact(named).text
    recorded = "高明的做法。"  # a recorded 高明 goes wherever the word is
    assert "高明" not in redact(recorded, [Party("other", "高明")]).text


def test_ordinary_legal_words_stay():
    text = ("客户投诉承办律师未按时告知开庭时间，错过上诉期限。"
            "律师费已收取，律师事务所应退还部分律师费。"
            "委托人于是向司法局投诉；书记员整理了会议纪要，银行卡转账记录显示费用已支付。严格执行制度。"
            "The client missed the appeal deadline; the Court of Appeal dismissed it in May.")
    assert redact(text).text == text


def test_unrecorded_organisations_and_their_brand():
    text = "他与杭州恒达贸易有限公司签约，恒达公司违约，恒达不认账。我们公司和科技公司无关。"
    result = redact(text)
    assert "恒达" not in result.text
    assert "我们公司和科技公司无关" in result.text


def test_a_recorded_surname_at_the_end_of_a_word_is_that_word():
    result = redact("对方律师和双方律师都到了，方律师没来。上周方律师才回电。", [LAWYER])
    assert result.text == "对方律师和双方律师都到了，律师甲没来。上周律师甲才回电。"


def test_a_recorded_name_that_is_a_word_stays_where_it_is_the_word():
    client = Party("client", "宁静")
    result = redact("客户宁静投诉。宁静说，办公室很宁静。宁女士很失望。", [client])
    assert result.text == "客户甲投诉。客户甲说，办公室很宁静。客户甲很失望。"


def test_names_given_in_brackets_are_the_same_entity():
    text = ("对方广州青禾农业发展有限公司（下称“青禾公司”）拒绝履行，青禾公司的法务未回复。"
            "Brightwater Logistics Ltd (BWL) owes RMB 80,000; BWL never paid.")
    result = redact(text)
    assert "青禾" not in result.text and "BWL" not in result.text
    assert "拒绝履行" in result.text and "RMB 80,000" in result.text
    labels = {text[r.start:r.end]: r.label for r in result.replacements}
    assert labels["青禾公司"] == labels["广州青禾农业发展有限公司"]


def test_english_names_of_unrecorded_people():
    text = ("The claimant's husband, Gareth Pryce, phoned. Gareth said Ms Lin had promised a "
            "refund; her assistant Zhou Ping confirmed. The Grace period was missed.")
    result = redact(text, [Party("lawyer", "林晓宇")])
    for gone in ("Gareth", "Pryce", "Ms Lin", "Zhou Ping"):
        assert gone not in result.text
    assert "The claimant's husband" in result.text and "Grace period" in result.text


def test_chinese_word_order_in_english_and_compound_surnames():
    chat = redact("谢谢He lawyer，明天见。", [Party("lawyer", "贺文涛")])
    assert chat.text == "谢谢律师甲，明天见。"
    result = redact("房东欧阳建军说，欧阳先生每月收租3000元。")
    assert "欧阳" not in result.text and "每月收租3000元" in result.text
