"""Delivery: email over SMTP, SMS through an HTTP gateway. Each either delivers or raises
`DeliveryError`, saying whether trying again may help (`permanent=False`).

The SMS gateway contract (docs/notifications.md): `POST LANDFLOW_SMS_URL` with the JSON
`{"to", "text", "idempotency_key"}`, headers `Idempotency-Key: <key>` and, when set,
`Authorization: Bearer LANDFLOW_SMS_TOKEN`. Any 2xx means accepted — including a repeat of a key it
already accepted, which it must not send again. 408, 425, 429 and 5xx (or no answer) are tried again
later with the same key; any other 4xx is final.

SMTP has no such contract: a server that took the message and lost the connection before saying so is
indistinguishable from one that never got it, so a retry may deliver twice. The Message-ID is the
idempotency key (`<key@sender domain>`), the same on every attempt, so the receiving side can drop the
copy (mail clients and archives thread and dedupe by it).
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

RETRYABLE_HTTP = {408, 425, 429}


class DeliveryError(Exception):
    def __init__(self, code: str, detail: str, permanent: bool):
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.permanent = code, detail, permanent


@dataclass(frozen=True)
class SmsGateway:
    url: str
    token: str = ""
    timeout: float = 20.0

    def send(self, to: str, text: str, key: str) -> None:
        body = json.dumps({"to": to, "text": text, "idempotency_key": key}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key,
                   "User-Agent": "landflow-notify"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                response.read(4096)
        except urllib.error.HTTPError as err:
            permanent = err.code < 500 and err.code not in RETRYABLE_HTTP
            raise DeliveryError("rejected" if permanent else "gateway_error", f"HTTP {err.code}",
                                permanent) from None
        except OSError as err:  # URLError, timeouts, refused connections
            raise DeliveryError("unreachable", str(getattr(err, "reason", err))[:300], False) from None


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int = 587
    sender: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    timeout: float = 30.0

    def domain(self) -> str:
        return self.sender.rpartition("@")[2].strip(" >") or "landflow.invalid"

    def send(self, to: str, subject: str, body: str, key: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = f"<{key}@{self.domain()}>"
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(body, charset="utf-8")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as err:
            raise DeliveryError("rejected", f"recipient refused: {list(err.recipients.values())[:1]}", True) from None
        except smtplib.SMTPResponseException as err:
            permanent = 500 <= err.smtp_code < 600
            raise DeliveryError("rejected" if permanent else "server_busy", f"SMTP {err.smtp_code}",
                                permanent) from None
        except (smtplib.SMTPException, OSError) as err:
            raise DeliveryError("unreachable", str(err)[:300], False) from None
