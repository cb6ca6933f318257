"""The channels a notice goes out on: e-mail (SMTP) and webhooks (HTTP POST JSON). Blocking
calls, run in a thread by delivery.py; a failure raises."""

from __future__ import annotations

import json
import smtplib
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from .settings import NotifySettings


def send_email(settings: NotifySettings, to: str, title: str, body: str, notice_id: str) -> None:
    msg = EmailMessage()
    msg["Subject"] = title
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{notice_id}@gongkai>"
    msg["X-Gongkai-Notice-Id"] = notice_id
    msg.set_content(body, charset="utf-8")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(msg)


def post_webhook(settings: NotifySettings, url: str, payload: dict[str, Any], notice_id: str) -> None:
    req = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Gongkai-Notice-Id": notice_id,
            "Idempotency-Key": notice_id,
        },
    )
    with urllib.request.urlopen(req, timeout=settings.webhook_timeout) as resp:  # noqa: S310 — configured URLs
        if not 200 <= resp.status < 300:
            raise RuntimeError(f"HTTP {resp.status}")
