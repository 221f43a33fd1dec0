"""Message builders: text and HTML say the same, names and links are escaped, nothing tracks."""

from imh_course.mail import messages

SITE = messages.Site(sender="IMH Course <no-reply@example.org>", provider="Care & Co", course="IMH")
NAME = 'Ada "<script>x</script>" Lovelace'
LINK = "https://imh.example.org/account/set-password/abc?x=1&y=<2>"


def test_a_message_has_a_text_part_and_an_escaped_html_alternative():
    message = messages.password_reset(
        SITE, name=NAME, address="ada@example.org", link=LINK, valid_for="1 hour"
    )
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert NAME in text and LINK in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://imh.example.org/account/set-password/abc?x=1&amp;y=&lt;2&gt;"' in html
    assert "<img" not in html and "Care &amp; Co" in html


def test_headers_name_the_recipient_and_ask_for_no_auto_replies():
    message = messages.invitation(
        SITE, name=NAME, address="ada@example.org", link=LINK, offering="Fall 2026", valid_for="14 days"
    )
    assert message["To"].addresses[0].addr_spec == "ada@example.org"
    assert message["To"].addresses[0].display_name == NAME
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@example.org>")
    assert "Fall 2026" in message.get_body(preferencelist=("plain",)).get_content()


def test_an_attachment_keeps_both_alternatives():
    message = messages.compose(
        sender=SITE.sender,
        to_name="A",
        to_address="a@example.org",
        subject="Reminder",
        blocks=[messages.Para("Tomorrow")],
        attachments=(messages.Attachment("meeting.ics", b"BEGIN:VCALENDAR", "text", "calendar"),),
    )
    assert message.get_content_type() == "multipart/mixed"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "meeting.ics"
    assert message.get_body(preferencelist=("html",)) is not None
