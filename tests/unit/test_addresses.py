"""One rule for addresses and names, and a To: header that always holds exactly one address."""

from __future__ import annotations

from email import message_from_bytes
from email.utils import getaddresses

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import OutboxMessage, OutboxStatus
from portal.services import addresses, outbox
from tests.smtp_fixture import smtp_server  # noqa: F401 (a fixture)


@pytest.fixture
def ctx(app):
    with app.app_context(), writes_by_default():
        yield app


def test_an_address_needing_smtputf8_is_refused_with_its_own_reason(ctx):
    with force_locale("en"):
        with pytest.raises(addresses.AddressError) as raised:
            addresses.normalise_address("用户@example.com")
        assert raised.value.code == "international_local_part"
        assert "before the @" in str(raised.value.message)
    with pytest.raises(addresses.AddressError) as raised:  # the portal's default language
        addresses.normalise_address("用户@example.com")
    assert "@ 前含有中文" in str(raised.value.message)
    with pytest.raises(addresses.AddressError) as raised:
        addresses.normalise_address("not an address")
    assert raised.value.code == "invalid"
    with pytest.raises(outbox.OutboxError):  # the outbox applies the very same rule
        outbox.normalise_address("用户@example.com")


def test_a_unicode_domain_is_kept_readable_and_sent_as_punycode():
    assert addresses.normalise_address(" li@例子.中国 ") == "li@例子.中国"
    assert addresses.sendable_address("li@例子.中国") == "li@xn--fsqu00a.xn--fiqs8s"
    assert outbox.normalise_address("li@例子.中国") == "li@xn--fsqu00a.xn--fiqs8s"


@pytest.mark.parametrize("text", ["王\n伟", "王\r伟", "王\t伟", "王\x00伟", "王\x1b伟",
                                  "王\u2028伟", "王\u2029伟", "王\x85伟"])
def test_line_breaks_and_control_characters_are_not_single_line(text):
    assert not addresses.is_single_line(text)


def test_ordinary_names_are_single_line():
    for name in ("王伟", "Mary O'Brien-Smith", "Wang, Li", "", None):
        assert addresses.is_single_line(name)


RECIPIENT = "wang.wei@example.com"
NAMES = [
    "Wang, attacker@evil.example, and a very long tail of text that needs folding for sure",
    "Wáng, attacker@evil.example, and a very long tail of text that needs folding for sure",
    "Wang (x@evil.example), y Wang (x@evil.example), y Wang (x@evil.example), y",
    'a\\"b, c@evil.example, a\\"b, c@evil.example, a\\"b, c@evil.example, a\\"b,',
    '"Wang" <x@evil.example>, y',
    "=?utf-8?q?a=2C_b=40evil=2Eexample?= , x",
    "王伟, attacker@evil.example, 李",
    "王伟王伟王伟王伟王伟王伟王伟王伟王伟王伟王伟王伟王伟, attacker@evil.example",
    "Wang Wei",
    "王伟",
]


@pytest.mark.parametrize("name", NAMES)
def test_the_sent_to_header_holds_exactly_one_address(ctx, smtp_server, name):
    outbox.queue(kind="test", recipient=RECIPIENT, recipient_name=name, subject="Hello",
                 body_text="Body")
    db.session.commit()
    assert outbox.deliver_due() == 1
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == [RECIPIENT]
    raw = message_from_bytes(envelope.data)  # the classic parser, as most tools read it
    assert [addr for _name, addr in getaddresses(raw.get_all("To"))] == [RECIPIENT]
    [address] = smtp_server.messages[0]["To"].addresses  # the modern parser
    assert address.addr_spec == RECIPIENT
    assert "evil.example" not in address.addr_spec
    header = envelope.data.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in header.split(b"\r\n"))


@pytest.mark.parametrize("name", ["Wang, attacker@evil.example, x", "王伟", "Wang Wei",
                                  "李, 明 <li@evil.example>"])
def test_a_short_display_name_arrives_unchanged(ctx, smtp_server, name):
    outbox.queue(kind="test", recipient=RECIPIENT, recipient_name=name, subject="Hello",
                 body_text="Body")
    db.session.commit()
    outbox.deliver_due()
    [address] = smtp_server.messages[0]["To"].addresses
    assert (address.display_name, address.addr_spec) == (name, RECIPIENT)


def test_a_name_that_is_not_one_line_is_refused_by_the_outbox(ctx):
    for name in ("李明\u2028Bcc: victim@example.com", "李明\tX"):
        with pytest.raises(outbox.OutboxError):
            outbox.queue(kind="test", recipient=RECIPIENT, recipient_name=name,
                         subject="Hello", body_text="Body")
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_a_unicode_domain_is_delivered_as_punycode(ctx, smtp_server):
    outbox.queue(kind="test", recipient="li@例子.中国", recipient_name="李明",
                 subject="Hello", body_text="Body")
    db.session.commit()
    assert outbox.deliver_due() == 1
    assert smtp_server.envelopes[0].rcpt_tos == ["li@xn--fsqu00a.xn--fiqs8s"]
    assert db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.SENT
