"""Sending email over SMTP: the one place that speaks to a mail server.

Used by the email channel and by SNS email subscriptions. Messages are built with the stdlib
``email.message.EmailMessage`` (RFC 2047 subjects and UTF-8 bodies in any language) and sent
with ``smtplib`` (implicit TLS or STARTTLS, AUTH, timeouts). Failures become
:class:`DeliveryFailed`, retryable unless retrying cannot help.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import parse_qsl, unquote, urlsplit

from .outbox import DeliveryFailed

__all__ = ["SmtpSettings", "build_message", "send_email"]

_EXAMPLE = "smtp://user:pass@mail.example.com:587?starttls=true"
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_QUERY_KEYS = ("starttls", "timeout")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail. ``implicit_tls`` is ``smtps://`` (TLS from the first byte,
    usually port 465); ``starttls`` upgrades a plain connection (usually port 587)."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse ``smtp://[user:pass@]host:port[?starttls=true]`` or ``smtps://...``.

        User and password are percent-decoded (write ``@`` as ``%40``). Raises ValueError
        with a message that says what to write instead; it never contains the password.
        """
        if not isinstance(url, str) or "://" not in url:
            raise ValueError(f"SMTP URL must look like {_EXAMPLE}")
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ValueError(
                f"SMTP URL has an invalid port; use a number from 1 to 65535, e.g. {_EXAMPLE}"
            ) from None
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps"):
            raise ValueError(
                f"SMTP URL must start with smtp:// (or smtps:// for implicit TLS), "
                f"not {scheme}://; e.g. {_EXAMPLE}"
            )
        if not parts.hostname:
            raise ValueError(f"SMTP URL has no host name; e.g. {_EXAMPLE}")
        if parts.path not in ("", "/") or parts.fragment:
            raise ValueError(f"SMTP URL must not have a path; e.g. {_EXAMPLE}")
        implicit = scheme == "smtps"
        if port == 0:
            raise ValueError("SMTP URL port must be from 1 to 65535")
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if username and password is None:
            raise ValueError(
                "SMTP URL has a user but no password; write smtp://user:password@host:port "
                "(percent-encode special characters, e.g. @ as %40)"
            )
        starttls, timeout = False, 30.0
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "starttls":
                if value.lower() not in _TRUE + _FALSE:
                    raise ValueError(f"SMTP URL starttls must be true or false (got {value!r})")
                starttls = value.lower() in _TRUE
            elif key == "timeout":
                try:
                    timeout = float(value)
                except ValueError:
                    timeout = -1.0
                if not 0 < timeout <= 600:
                    raise ValueError(
                        f"SMTP URL timeout must be a number of seconds from 0 to 600 "
                        f"(got {value!r})"
                    )
            else:
                raise ValueError(
                    f"SMTP URL has unknown option {key!r}; valid options are "
                    f"{', '.join(_QUERY_KEYS)}"
                )
        if implicit and starttls:
            raise ValueError(
                "SMTP URL asks for both smtps:// (implicit TLS) and starttls=true; use "
                "smtps://host:465 or smtp://host:587?starttls=true"
            )
        return cls(
            host=parts.hostname,
            port=port or (465 if implicit else 25),
            username=username,
            password=password,
            starttls=starttls,
            implicit_tls=implicit,
            timeout=timeout,
        )


def _one_line(text: str) -> str:
    """Header values cannot hold line breaks (header injection): fold them into spaces."""
    return " ".join(text.split()) if ("\n" in text or "\r" in text) else text


def build_message(
    sender: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A MIME message: text/plain, plus text/html as an alternative when ``html`` is given."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = sender.rpartition("@")[2].strip("> ") or "logsieve.local"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    for name, value in (headers or {}).items():
        del message[name]
        message[name] = _one_line(value)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send_email(
    settings: SmtpSettings,
    sender: str,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """Send one message to ``to``; returns its Message-ID.

    Raises DeliveryFailed: not retryable for permanent (5xx) refusals of the message, its
    sender or recipients, and for rejected credentials; retryable for connection problems,
    timeouts and temporary (4xx) replies.
    """
    if not to:
        raise ValueError("send_email needs at least one recipient")
    where = f"{settings.host}:{settings.port}"
    try:
        message = build_message(sender, to, subject, text, html, headers)
    except (ValueError, TypeError) as exc:  # e.g. a header with a line break: never sendable
        raise DeliveryFailed(f"the email cannot be built: {exc}", retryable=False) from None
    try:
        refused = _transmit(settings, message, sender, to)
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refusal(exc.recipients, where, delivered=False) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(
            f"SMTP {where} rejected the login ({exc.smtp_code} {_reply(exc.smtp_error)}); "
            "check the user and password in the SMTP URL",
            retryable=False,
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryFailed(
            f"SMTP {where}: {exc}; check the SMTP URL's starttls option and credentials",
            retryable=False,
        ) from None
    except smtplib.SMTPConnectError as exc:
        raise DeliveryFailed(
            f"SMTP {where} refused the connection ({exc.smtp_code} {_reply(exc.smtp_error)})"
        ) from None
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, HELO...
        what = "the sender" if isinstance(exc, smtplib.SMTPSenderRefused) else "the message"
        raise DeliveryFailed(
            f"SMTP {where} refused {what}: {exc.smtp_code} {_reply(exc.smtp_error)}",
            retryable=not 500 <= exc.smtp_code < 600,
        ) from None
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, TLS, DNS
        reason = str(exc) or type(exc).__name__
        raise DeliveryFailed(f"SMTP {where}: {reason}") from None
    if refused:
        raise _refusal(refused, where, delivered=True)
    return str(message["Message-ID"])


def _transmit(
    settings: SmtpSettings, message: EmailMessage, sender: str, to: list[str]
) -> dict[str, tuple[int, bytes]]:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.implicit_tls:
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        client.ehlo()
        if settings.starttls:
            client.starttls(context=context)
            client.ehlo()
        if settings.username:
            client.login(settings.username, settings.password or "")
        return client.send_message(message, from_addr=sender, to_addrs=to)


def _reply(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(text.split())


def _refusal(
    refused: Mapping[str, tuple[int, bytes | str]], where: str, delivered: bool
) -> DeliveryFailed:
    """Refused recipients: permanent (5xx) for all of them means retrying cannot help.

    A temporary (4xx) refusal is retried, which re-sends to recipients that accepted the
    first time: at least once, never lost.
    """
    detail = "; ".join(f"{rcpt}: {code} {_reply(text)}" for rcpt, (code, text) in refused.items())
    temporary = any(not 500 <= code < 600 for code, _ in refused.values())
    prefix = "delivered to the other recipients, but " if delivered else ""
    return DeliveryFailed(
        f"SMTP {where}: {prefix}refused recipients ({detail})", retryable=temporary
    )
