"""The redaction engine: identifiers found by their shape, addresses and dates."""

from __future__ import annotations

import pytest

from portal.privacy import redact


def kinds(text: str, language: str | None = None) -> list[tuple[str, str]]:
    """(what was replaced, its kind) for every replacement, in order."""
    return [(text[r.start:r.end], r.kind) for r in redact(text, language=language).replacements]


@pytest.mark.parametrize("phone", [
    "15900001234", "159-0000-1234", "159 0000 1234", "+86 159 0000 1234", "+86-159-0000-1234",
    "(+86)15900001234", "159.0000.1234", "0755-26540000", "(020) 8888 0000", "（020）8888 0000",
    "+86-755-26540000", "１５９００００１２３４", "400-820-8820", "+44 20 7946 0000",
])
def test_every_common_writing_of_a_phone_number_is_removed(phone):
    text = f"他的电话是{phone}，请回电。"
    result = redact(text)
    assert phone not in result.text
    assert "[电话]" in result.text
    assert result.text.startswith("他的电话是") and result.text.endswith("，请回电。")


def test_email_and_offsets_point_at_what_was_replaced():
    text = "Please write to xu.jh+complaints@example.com.cn before Friday."
    result = redact(text)
    (replacement,) = result.replacements
    assert text[replacement.start:replacement.end] == "xu.jh+complaints@example.com.cn"
    assert (replacement.kind, replacement.label) == ("email", "[email]")
    assert result.text == "Please write to [email] before Friday."


def test_a_resident_id_needs_its_check_digit():
    valid, wrong_check = "11010519491231002X", "110105194912310021"
    assert kinds(f"证件 {valid} 已核对") == [(valid, "id_number")]
    assert all(kind != "id_number" for _, kind in kinds(f"编号 {wrong_check} 已核对"))
    # after the word 身份证号 any number is taken as one, whatever its check digit
    assert kinds(f"身份证号：{wrong_check}") == [(wrong_check, "id_number")]


def test_bank_cards_pass_luhn_with_spaces_or_dashes():
    card = "6222 0212 3456 7890 128"
    assert kinds(f"卡号 {card} 已冻结") == [(card, "bank_card")]
    assert kinds("card 4111-1111-1111-1111 expired", "en") == [("4111-1111-1111-1111", "bank_card")]
    assert kinds("order 4111111111111112 shipped") == []  # 16 digits failing Luhn


def test_passport_licence_and_wechat():
    found = kinds("护照E12345678，执业证号13101201010123456，"
                  "微信号：jianhua_xu88，另有wxid_ab12cd34。")
    assert found == [("E12345678", "passport"), ("13101201010123456", "licence"),
                     ("jianhua_xu88", "wechat"), ("wxid_ab12cd34", "wechat")]
    assert kinds("Add me on WeChat: Lawyer-Fang2020 please") == [("Lawyer-Fang2020", "wechat")]


@pytest.mark.parametrize("case_number", [
    "（2021）浙0106民初3318号", "(2021)浙0106民初3318号", "〔2020〕京民终123号",
    "(2019)最高法民申1234号", "（ 2022 ）粤03刑终12号", "2021浙0106民初3318号",
    "(2021) Zhe 0106 Min Chu No. 3318",
])
def test_court_case_numbers_in_brackets_of_any_width_and_in_english(case_number):
    assert kinds(f"案件 {case_number} 已结") == [(case_number, "case_number")]


def test_chinese_addresses_widen_over_the_places_before_and_the_rooms_after():
    text = "他住在杭州市西湖区文三路90号3幢501室，离西湖不远。"
    assert kinds(text) == [("杭州市西湖区文三路90号3幢501室", "address")]
    # a city alone is not an address, and 知道3号 is no road
    assert kinds("他在杭州工作，知道3号要开庭。") == []


def test_english_addresses_and_postcodes():
    text = "She lives at Flat 3, 12 Baker Street, London NW1 6XE and works in Leeds."
    assert kinds(text) == [("Flat 3, 12 Baker Street, London NW1 6XE", "address")]
    assert kinds("Room 501, No. 90 Wensan Road, Xihu District, Hangzhou.")[0][1] == "address"


@pytest.mark.parametrize(("written", "coarse"), [
    ("2023年3月15日", "2023年3月"), ("2023年03月15号", "2023年03月"),
    ("二〇二三年三月十五日", "二〇二三年三月"),
    ("3月15日", "3月"), ("2023-03-15", "2023-03"), ("2023/3/5", "2023/3"),
    ("15 March 2023", "March 2023"), ("March 15, 2023", "March 2023"),
    ("15th of March 2023", "March 2023"),
    ("5 May", "May"), ("15/03/2023", "03/2023"),
])
def test_exact_dates_become_their_month(written, coarse):
    result = redact(f"on {written} we met")
    assert result.text == f"on {coarse} we met"
    assert [r.kind for r in result.replacements] == ["date"]


def test_months_years_amounts_and_periods_stay():
    text = "2023年3月 the fee of 5000 yuan, March 2023, 上诉期限为15日，30日内答复，邮编310000。"
    assert redact(text).text == text
