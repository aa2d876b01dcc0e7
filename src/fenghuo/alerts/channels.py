"""Notification channels: a signed generic webhook, the DingTalk (钉钉), WeCom (企业微信) and
Feishu (飞书) group-robot formats, and e-mail over SMTP.

Each channel turns one notification payload into the request its platform documents, and
raises ``DeliveryError`` when the platform says no (a robot answers HTTP 200 with a non-zero
``errcode``/``code`` when it refuses a message, so the body is checked too).

- DingTalk custom robot, 加签: ``sign = urlencode(base64(HmacSHA256(key=secret,
  msg=f"{timestamp_ms}\\n{secret}")))`` appended as ``&timestamp=…&sign=…``; body
  ``{"msgtype": "markdown", "markdown": {"title", "text"}}``.
- WeCom group robot: the key is in the URL; body ``{"msgtype": "markdown", "markdown":
  {"content"}}`` (content at most 4,096 bytes).
- Feishu custom bot, 签名校验: ``sign = base64(HmacSHA256(key=f"{timestamp_s}\\n{secret}",
  msg=""))`` sent in the body with ``timestamp``; body ``{"msg_type": "text", "content":
  {"text"}}``.
- Generic webhook: the JSON payload, with ``X-Fenghuo-Timestamp`` and ``X-Fenghuo-Signature:
  sha256=hex(HmacSHA256(secret, f"{timestamp}.{body}"))`` so a receiver can verify origin and
  freshness; ``X-Fenghuo-Notification`` carries the id to deduplicate on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx

from fenghuo.alerts.levels import Level
from fenghuo.alerts.rules import Selector

TYPES = ("webhook", "dingtalk", "wecom", "feishu", "email")


class DeliveryError(Exception):
    pass


@dataclass
class Channel:
    name: str
    type: str
    url: str | None = None
    secret: str | None = None
    levels: frozenset[Level] = frozenset(Level)
    services: Selector = field(default_factory=Selector)
    # e-mail
    host: str | None = None
    port: int = 25
    sender: str | None = None
    to: list[str] = field(default_factory=list)
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 5.0

    def routes(self, level: Level, info) -> bool:  # ServiceInfo or None
        return level in self.levels and (info is None or self.services.matches(info))


def text_of(payload: dict[str, Any]) -> tuple[str, str]:
    """A bilingual title and body, the same on every channel."""
    level = Level(payload["level"])
    kind = payload["kind"]
    verb = {"firing": ("发布", "raised"), "escalated": ("升级", "escalated to"), "resolved": ("解除", "resolved"),
            "repeat": ("仍在持续", "still firing"), "notify": ("按预案通知", "plan notice"),
            "escalate": ("按预案升级上报", "escalated per plan")}.get(kind, (kind, kind))
    title = f"【烽火】{level.zh}{verb[0]} / fenghuo {level.value.upper()} warning (level {level.roman}) {verb[1]}"
    lines = [f"### {title}"]
    for w in payload["warnings"]:
        lines += [
            f"- 服务 service: **{w['service']}**  预警 alert: {w['alert']}（规则 rule {w['rule']}）",
            f"- 条件 condition: {w.get('condition', '')}，当前值 value: {w.get('value')}",
            f"- 状态 state: {w['state']}，等级 level: {w['level']}" + (f"，负责人 owner: {w['ack_owner']}" if w.get("ack_owner") else ""),
            f"- 说明: {w.get('description_zh', '')} / {w.get('description_en', '')}",
        ]
    lines.append(f"- 通知编号 notification: {payload['id']}")
    return title, "\n".join(lines)


def _check_robot(r: httpx.Response) -> None:
    if r.status_code >= 300:
        raise DeliveryError(f"HTTP {r.status_code}: {r.text[:200]}")
    try:
        body = r.json()
    except ValueError:
        return
    code = body.get("errcode", body.get("code", body.get("StatusCode", 0))) if isinstance(body, dict) else 0
    if code not in (0, None):
        raise DeliveryError(f"platform refused: {json.dumps(body, ensure_ascii=False)[:200]}")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(mac))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def send(channel: Channel, payload: dict[str, Any], client: httpx.Client) -> None:
    """Deliver one notification; raises DeliveryError (or an httpx/smtplib error) on failure."""
    title, text = text_of(payload)
    if channel.type == "webhook":
        body = json.dumps({**payload, "title": title, "text": text}, ensure_ascii=False, sort_keys=True).encode()
        ts = str(int(time.time()))
        headers = {"content-type": "application/json", "x-fenghuo-timestamp": ts, "x-fenghuo-notification": payload["id"]}
        if channel.secret:
            headers["x-fenghuo-signature"] = webhook_signature(channel.secret, ts, body)
        r = client.post(channel.url, content=body, headers=headers, timeout=channel.timeout)
        if r.status_code >= 300:
            raise DeliveryError(f"HTTP {r.status_code}: {r.text[:200]}")
    elif channel.type == "dingtalk":
        url = channel.url
        if channel.secret:
            ts = int(time.time() * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={dingtalk_sign(channel.secret, ts)}"
        _check_robot(client.post(url, json={"msgtype": "markdown", "markdown": {"title": title, "text": text}},
                                 timeout=channel.timeout))
    elif channel.type == "wecom":
        content = text.encode()[:4096].decode(errors="ignore")
        _check_robot(client.post(channel.url, json={"msgtype": "markdown", "markdown": {"content": content}},
                                 timeout=channel.timeout))
    elif channel.type == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": f"{title}\n{text}"}}
        if channel.secret:
            ts = int(time.time())
            body = {"timestamp": str(ts), "sign": feishu_sign(channel.secret, ts), **body}
        _check_robot(client.post(channel.url, json=body, timeout=channel.timeout))
    elif channel.type == "email":
        msg = EmailMessage()
        msg["Subject"] = title
        msg["From"] = channel.sender or "fenghuo@localhost"
        msg["To"] = ", ".join(channel.to)
        msg["X-Fenghuo-Notification"] = payload["id"]
        msg.set_content(text)
        with smtplib.SMTP(channel.host or "localhost", channel.port, timeout=channel.timeout) as smtp:
            if channel.starttls:
                smtp.starttls()
            if channel.username:
                smtp.login(channel.username, channel.password or "")
            smtp.send_message(msg)
    else:  # pragma: no cover - refused when the config is read
        raise DeliveryError(f"unknown channel type {channel.type}")
