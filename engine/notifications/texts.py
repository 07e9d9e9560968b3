"""What the applicant reads: one short Vietnamese text per kind of notification, for SMS and email.

An SMS with Vietnamese diacritics is sent in UCS-2: 70 characters fit one segment, and a message in
several parts carries 67 per part. Every text aims at two segments at most (134 characters) with the
lookup link in full: the link is never cut; a long free text (the papers asked for, a refusal's reason)
is shortened with "…", and the lookup page and the email carry it whole. `segments` counts as a phone
network does, so the tests hold the texts to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

KINDS = ("received", "supplement", "apology", "result_ready", "refused")
SEGMENT = 70        # UCS-2 characters of a one-part SMS
PART = 67           # of each part of a concatenated SMS (the header takes the rest)
BUDGET = 2 * PART   # two segments
ELLIPSIS = "…"

SUBJECTS = {
    "received": "đã được tiếp nhận",
    "supplement": "cần bổ sung giấy tờ",
    "apology": "thư xin lỗi và hẹn lại ngày trả kết quả",
    "result_ready": "đã có kết quả",
    "refused": "không được chấp nhận",
}


@dataclass(frozen=True)
class Message:
    sms: str
    subject: str
    body: str


def segments(text: str) -> int:
    """SMS segments of a UCS-2 text (one character = one UTF-16 unit here: Vietnamese is in the BMP)."""
    n = len(text.encode("utf-16-le")) // 2
    return 1 if n <= SEGMENT else -(-n // PART)


def _date(value: Any, tz: tzinfo) -> str:
    if not value:
        return ""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.astimezone(tz).strftime("%d/%m/%Y")


def _fit(head: str, free: str, tail: str, budget: int = BUDGET) -> str:
    """`head + free + tail`, the free text shortened (never the link in `tail`) to keep within budget."""
    free = " ".join(free.split())
    room = budget - len(head) - len(tail)
    if len(free) > room:
        free = free[:max(room - 1, 0)].rstrip(" ,;.:") + ELLIPSIS if room > 1 else ""
    return head + free + tail


def sms_text(kind: str, params: dict[str, Any], link: str, tz: tzinfo) -> str:
    """The SMS: what happened, the date or the words that matter, and the lookup link."""
    see = f" Xem: {link}"
    if kind == "received":
        return f"Hồ sơ đã được tiếp nhận, hẹn trả {_date(params.get('due'), tz)}.{see}"
    if kind == "supplement":
        return _fit("Hồ sơ cần bổ sung: ", str(params.get("asked", "")), f".{see}")
    if kind == "apology":
        return f"Xin lỗi: hồ sơ trễ hẹn, hẹn mới {_date(params.get('new_due'), tz)}.{see}"
    if kind == "result_ready":
        return f"Hồ sơ đã có kết quả, mời đến Một cửa nhận.{see}"
    if kind == "refused":
        return _fit("Hồ sơ không được chấp nhận: ", str(params.get("reason", "")), f".{see}")
    raise ValueError(f"unknown notification kind {kind!r}")


def message(kind: str, code: str, params: dict[str, Any], link: str, tz: tzinfo, desk: str) -> Message:
    """The SMS and the email of one notification. The email says the same, with nothing shortened,
    the dossier code, where to go, and the lookup link."""
    sms = sms_text(kind, params, link, tz)
    lines = ["Kính gửi ông/bà,", ""]
    if kind == "received":
        lines.append(f"Hồ sơ mã {code} đã được {desk} tiếp nhận. "
                     f"Ngày hẹn trả kết quả: {_date(params.get('due'), tz)}.")
    elif kind == "supplement":
        lines += [f"Hồ sơ mã {code} cần bổ sung giấy tờ sau:", "", str(params.get("asked", "")).strip(), "",
                  f"Đề nghị ông/bà nộp bổ sung tại {desk}. Thời gian chờ bổ sung không tính vào thời hạn giải quyết."]
    elif kind == "apology":
        lines.append(f"{desk} thành thật xin lỗi vì hồ sơ mã {code} chưa được giải quyết đúng hẹn "
                     f"({_date(params.get('old_due'), tz)}). Ngày hẹn trả kết quả mới: "
                     f"{_date(params.get('new_due'), tz)}.")
        if params.get("reason"):
            lines += ["", f"Lý do: {str(params['reason']).strip()}"]
    elif kind == "result_ready":
        lines.append(f"Hồ sơ mã {code} đã có kết quả. Mời ông/bà mang giấy hẹn trả kết quả và giấy tờ tùy thân "
                     f"đến {desk} để nhận.")
    elif kind == "refused":
        lines += [f"Hồ sơ mã {code} không được chấp nhận giải quyết.", "",
                  f"Lý do: {str(params.get('reason', '')).strip()}", "",
                  f"Mời ông/bà đến {desk} để nhận lại hồ sơ và văn bản trả lời."]
    else:
        raise ValueError(f"unknown notification kind {kind!r}")
    lines += ["", f"Mã hồ sơ: {code}", f"Tra cứu tình trạng hồ sơ: {link}", "",
              "Thư này được gửi tự động vì ông/bà đã đồng ý nhận thông báo khi nộp hồ sơ; "
              "xin đừng trả lời thư này.", desk]
    return Message(sms=sms, subject=f"Hồ sơ {code} {SUBJECTS[kind]}", body="\n".join(lines) + "\n")
