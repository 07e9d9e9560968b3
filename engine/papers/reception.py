"""What the desk records at reception besides the applicant and parcel: how the dossier came, and the
papers ticked on the procedure's checklist (which form — original, certified copy, copy — and how many).

Kept in the `opened` event (`reception`), so the receipt lists exactly the papers acknowledged, and a
later correction of the procedure's list never changes what a citizen was given.
"""

from __future__ import annotations

from typing import Any

from ..notifications.outbox import check_notify
from .requirements import Paper

CHANNELS = ("in_person", "post", "online")
FORMS = ("original", "certified_copy", "copy")
MAX_COUNT = 99


def check_reception(reception: Any, papers: list[Paper]) -> tuple[dict[str, Any] | None, list[str]]:
    """The reception record as stored (codes in the procedure's order), or the problems, all at once."""
    if reception is None:
        return None, []
    if not isinstance(reception, dict):
        return None, ["reception must be an object"]
    problems: list[str] = []
    unknown = set(reception) - {"channel", "papers"}
    if unknown:
        problems.append(f"reception: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    channel = reception.get("channel", "in_person")
    if channel not in CHANNELS:
        problems.append(f"reception.channel must be one of {', '.join(CHANNELS)}")
    listed = {p.code: n for n, p in enumerate(papers)}
    ticked: dict[str, dict[str, Any]] = {}
    raw = reception.get("papers", [])
    if not isinstance(raw, list):
        problems.append("reception.papers must be a list")
        raw = []
    for entry in raw:
        if not isinstance(entry, dict) or set(entry) - {"code", "form", "count"}:
            problems.append("reception.papers: each paper is {code, form, count}")
            continue
        code, form, count = entry.get("code"), entry.get("form", "original"), entry.get("count", 1)
        if code not in listed:
            problems.append(f"reception.papers: {code!r} is not a paper of this procedure")
        elif code in ticked:
            problems.append(f"reception.papers: {code} is ticked twice")
        if form not in FORMS:
            problems.append(f"reception.papers: {code}: form must be one of {', '.join(FORMS)}")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            problems.append(f"reception.papers: {code}: count must be a whole number from 1 to {MAX_COUNT}")
        if isinstance(code, str) and code in listed:
            ticked[code] = {"code": code, "form": form, "count": count}
    if problems:
        return None, problems
    ordered = sorted(ticked.values(), key=lambda e: listed[e["code"]])
    return {"channel": channel, "papers": ordered}, []


def missing_required(reception: dict[str, Any] | None, papers: list[Paper]) -> list[Paper]:
    """Required papers not ticked: the desk asks for them (a supplement) or refuses; it never guesses."""
    ticked = {e["code"] for e in (reception or {}).get("papers", [])}
    return [p for p in papers if p.required and p.code not in ticked]


ID_KINDS = ("cccd", "passport", "other")


def check_applicant(applicant: dict[str, Any]) -> list[str]:
    """The identity number checked for its kind: a citizen ID (CCCD, the personal identification number)
    is 12 digits; a passport 6–12 letters and digits; other papers are taken as written. Phone and email
    are checked for shape only: the desk reads them back to the applicant."""
    problems: list[str] = []
    kind = applicant.get("id_kind")
    number = str(applicant.get("id_number") or "").strip()
    if kind is not None and kind not in ID_KINDS:
        problems.append(f"applicant.id_kind must be one of {', '.join(ID_KINDS)}")
    if kind == "cccd" and not (len(number) == 12 and number.isdigit()):
        problems.append("applicant.id_number: a citizen ID (CCCD) is 12 digits")
    if kind == "passport" and not (6 <= len(number) <= 12 and number.isalnum() and number.isascii()):
        problems.append("applicant.id_number: a passport number is 6 to 12 letters and digits")
    phone = str(applicant.get("phone") or "").replace(" ", "").replace(".", "")
    if phone and not (phone.lstrip("+").isdigit() and 9 <= len(phone.lstrip("+")) <= 15):
        problems.append("applicant.phone: 9 to 15 digits, e.g. 0905123456")
    email = str(applicant.get("email") or "")
    if email and (email.count("@") != 1 or "." not in email.split("@")[1] or " " in email):
        problems.append("applicant.email is not an email address")
    problems += check_notify(applicant)
    rep = applicant.get("representative")
    if rep is not None and (not isinstance(rep, dict) or not str(rep.get("name") or "").strip()):
        problems.append("applicant.representative needs at least a name")
    return problems
