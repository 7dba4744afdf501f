"""SMTP settings from URLs, and real mail to a real (aiosmtpd) server."""

from __future__ import annotations

import pytest

from logsieve.notify.email import EmailChannel
from logsieve.notify.message import Notification
from logsieve.notify.outbox import DeliveryFailed
from logsieve.notify.smtp import SmtpSettings, send_email
from tests.receivers import SmtpServer
from tests.server import free_port

# aiosmtpd warns that AUTH without TLS is unsafe: on loopback in a test, it is what we want.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")

JAPANESE_SUBJECT = "VPN接続: 田中さんが東京から接続しました"
JAPANESE_BODY = "ユーザー: 田中\n送信元: 203.0.113.7\n時刻: 2024-05-01 09:00 JST\n"


def content(message, kind: str) -> str:
    """A body part's text with the wire's CRLF line ends back to LF."""
    part = message.get_body((kind,))
    assert part is not None, f"no text/{kind} part"
    return part.get_content().replace("\r\n", "\n")


# --- URL parsing ------------------------------------------------------------------------------


def test_url_with_credentials_and_starttls() -> None:
    settings = SmtpSettings.from_url(
        "smtp://al%40ice:p%3Ass%2Fw@mail.example.com:587?starttls=true"
    )
    assert settings.host == "mail.example.com"
    assert settings.port == 587
    assert settings.username == "al@ice"
    assert settings.password == "p:ss/w"
    assert settings.starttls and not settings.implicit_tls
    assert "p:ss/w" not in repr(settings)


def test_smtps_is_implicit_tls_with_default_port() -> None:
    settings = SmtpSettings.from_url("smtps://mail.example.com")
    assert (settings.port, settings.implicit_tls, settings.starttls) == (465, True, False)
    plain = SmtpSettings.from_url("smtp://localhost:1025")
    assert (plain.host, plain.port, plain.username, plain.starttls) == (
        "localhost",
        1025,
        None,
        False,
    )
    assert SmtpSettings.from_url("smtp://h:25?timeout=5").timeout == 5.0


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://mail.example.com", "smtp://"),
        ("mail.example.com:25", "smtp://"),
        ("smtp://:25", "no host"),
        ("smtp://h:99999", "port"),
        ("smtp://h:25?starttls=maybe", "starttls must be true or false"),
        ("smtp://h:25?tls=1", "unknown option 'tls'"),
        ("smtps://h:465?starttls=true", "both"),
        ("smtp://user@h:25", "no password"),
        ("smtp://h:25/path", "path"),
    ],
)
def test_bad_urls_say_what_to_write(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as caught:
        SmtpSettings.from_url(url)
    assert "\n" not in str(caught.value)


def test_error_messages_never_show_the_password() -> None:
    with pytest.raises(ValueError) as caught:
        SmtpSettings.from_url("smtp://u:sekrit@h:25?bogus=1")
    assert "sekrit" not in str(caught.value)


# --- real delivery ----------------------------------------------------------------------------


def test_japanese_subject_and_body_arrive_intact() -> None:
    with SmtpServer() as smtp:
        settings = SmtpSettings.from_url(smtp.url)
        send_email(
            settings,
            "logsieve@example.com",
            ["ops@example.com", "sec@example.com"],
            JAPANESE_SUBJECT,
            JAPANESE_BODY,
            html="<p>田中 &amp; co</p>",
            headers={"X-Logsieve-Severity": "warning"},
        )
    [mail] = smtp.mails()
    assert mail.sender == "logsieve@example.com"
    assert mail.recipients == ["ops@example.com", "sec@example.com"]
    raw_headers = mail.raw.split(b"\r\n\r\n", 1)[0]
    raw_headers.decode("ascii")  # headers on the wire are pure ASCII (RFC 2047 encoded-words)
    assert b"=?utf-8?" in raw_headers.lower()
    message = mail.message
    assert message["Subject"] == JAPANESE_SUBJECT
    assert message["X-Logsieve-Severity"] == "warning"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@example.com>")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8"
    assert content(message, "plain") == JAPANESE_BODY
    assert content(message, "html").strip() == "<p>田中 &amp; co</p>"


def test_auth_against_the_server() -> None:
    with SmtpServer(user="alerts", password="pa:ss") as smtp:
        good = SmtpSettings.from_url(f"smtp://alerts:pa%3Ass@127.0.0.1:{smtp.port}")
        send_email(good, "a@example.com", ["b@example.com"], "hi", "body")
        assert len(smtp.mails()) == 1
        bad = SmtpSettings.from_url(f"smtp://alerts:wrong@127.0.0.1:{smtp.port}")
        with pytest.raises(DeliveryFailed) as caught:
            send_email(bad, "a@example.com", ["b@example.com"], "hi", "body")
        assert not caught.value.retryable
        assert "rejected the login" in caught.value.message
        assert "wrong" not in caught.value.message
        # No credentials where the server requires AUTH: refused, visible.
        anonymous = SmtpSettings.from_url(smtp.url)
        with pytest.raises(DeliveryFailed):
            send_email(anonymous, "a@example.com", ["b@example.com"], "hi", "body")
    assert len(smtp.mails()) == 1


def test_permanent_recipient_refusal_is_not_retryable() -> None:
    with SmtpServer() as smtp:
        smtp.refuse["nobody@example.com"] = "550 5.1.1 No such user"
        settings = SmtpSettings.from_url(smtp.url)
        with pytest.raises(DeliveryFailed) as caught:
            send_email(settings, "a@example.com", ["nobody@example.com"], "s", "t")
    assert not caught.value.retryable
    assert "550" in caught.value.message and "nobody@example.com" in caught.value.message


def test_temporary_recipient_refusal_is_retryable() -> None:
    with SmtpServer() as smtp:
        smtp.refuse["busy@example.com"] = "450 4.2.0 Mailbox busy, try later"
        settings = SmtpSettings.from_url(smtp.url)
        with pytest.raises(DeliveryFailed) as caught:
            send_email(settings, "a@example.com", ["busy@example.com"], "s", "t")
    assert caught.value.retryable


def test_partial_permanent_refusal_is_reported_after_delivering_to_the_rest() -> None:
    with SmtpServer() as smtp:
        smtp.refuse["gone@example.com"] = "550 5.1.1 No such user"
        settings = SmtpSettings.from_url(smtp.url)
        with pytest.raises(DeliveryFailed) as caught:
            send_email(settings, "a@example.com", ["ok@example.com", "gone@example.com"], "s", "t")
    assert [m.recipients for m in smtp.mails()] == [["ok@example.com"]]
    assert not caught.value.retryable
    assert "delivered to the other recipients" in caught.value.message


def test_no_server_is_retryable() -> None:
    settings = SmtpSettings.from_url(f"smtp://127.0.0.1:{free_port()}?timeout=5")
    with pytest.raises(DeliveryFailed) as caught:
        send_email(settings, "a@example.com", ["b@example.com"], "s", "t")
    assert caught.value.retryable


# --- the email channel ------------------------------------------------------------------------


def test_email_channel_renders_text_html_and_headers() -> None:
    note = Notification(
        title="Port 23 probed from 110.53.1.2\r\nBcc: victim@example.com",
        text="Rejected <23> from 110.53.1.2 & friends\nsecond line",
        severity="error",
        source="rejected-traffic",
        timestamp=1_714_554_000_000,
        tags=("env:prod", "team:sec"),
    )
    with SmtpServer() as smtp:
        channel = EmailChannel("ops", SmtpSettings.from_url(smtp.url), "ls@example.com", ["o@x.io"])
        channel.send(note)
    message = smtp.mails()[0].message
    # The line break in the title cannot inject a header.
    assert message["Subject"] == "Port 23 probed from 110.53.1.2 Bcc: victim@example.com"
    assert message["Bcc"] is None
    assert message["X-Logsieve-Severity"] == "error"
    assert message["X-Logsieve-Source"] == "rejected-traffic"
    assert message["X-Logsieve-Tags"] == "env:prod, team:sec"
    text = content(message, "plain")
    assert text.startswith("Rejected <23> from 110.53.1.2 & friends\nsecond line\n")
    assert "Time: 2024-05-01T09:00:00Z" in text
    html = content(message, "html")
    assert "Rejected &lt;23&gt; from 110.53.1.2 &amp; friends" in html  # escaped, not markup
    assert "<23>" not in html
    assert "white-space:pre-wrap" in html


def test_email_channel_uses_the_notes_own_html() -> None:
    note = Notification(title="t", text="plain", html="<b>rich</b>")
    with SmtpServer() as smtp:
        EmailChannel("e", SmtpSettings.from_url(smtp.url), "a@b.c", ["d@e.f"]).send(note)
    assert content(smtp.mails()[0].message, "html").strip() == "<b>rich</b>"
