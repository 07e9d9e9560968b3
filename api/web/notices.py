"""The desk's list of notifications that did not reach the applicant: failed, or still unsent long after
their event (engine/notifications). Shown on the desk's worklist only when there is one, so the desk can
phone the applicant instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from engine.notifications import outbox

from .common import lf
from .i18n import when
from .tables import Column, Table

KIND = {"received": _l("Dossier received"), "supplement": _l("Papers to supplement"),
        "apology": _l("Apology and new date"), "result_ready": _l("Result ready"),
        "refused": _l("Dossier not accepted")}
CHANNEL = {"email": _l("Email"), "sms": _l("SMS")}
STATE = {"failed": _l("Not sent"), "pending": _l("Late, will be tried again"), "sending": _l("Late, being sent")}
EVERY_STATE = {"pending": _l("waiting to be sent"), "sending": _l("being sent"), "sent": _l("sent"),
               "failed": _l("not sent"), "skipped": _l("not sent (demo mode)")}
ERROR = {"not_configured": _l("no sending channel is configured"),
         "unreachable": _l("the mail server or SMS gateway cannot be reached"),
         "rejected": _l("refused by the mail server or SMS gateway (wrong address or number?)"),
         "gateway_error": _l("the SMS gateway answered with an error"),
         "server_busy": _l("the mail server is busy"),
         "gave_up": _l("its sender stopped every time while sending it")}


def error_words(error: str) -> str:
    code, _sep, detail = error.partition(":")
    words = ERROR.get(code.strip())
    if words is None:
        return error
    return f"{words} ({detail.strip()})" if detail.strip() else str(words)


def troubles_table(unit: str) -> Table | None:
    engine = lf()
    found = outbox.troubles(engine.db, unit, engine.clock.now(), engine.settings.notify_late_minutes)
    if not found:
        return None
    rows: list[Mapping[str, Any]] = [
        {"code": t.code, "dossier": t.dossier_id, "kind": str(KIND.get(t.kind, t.kind)),
         "channel": str(CHANNEL.get(t.channel, t.channel)), "state": str(STATE.get(t.state, t.state)),
         "attempts": t.attempts, "since": t.created_at, "error": error_words(t.last_error)} for t in found]
    link = lambda v, r: Markup('<a href="{}">{}</a>').format(  # noqa: E731
        url_for("web_officer.dossier", dossier_id=r["dossier"]), v)
    return Table("notifications", _("Notifications that did not reach the applicant"), [
        Column("code", _("Dossier"), show=link), Column("kind", _("Notification")),
        Column("channel", _("Channel")), Column("state", _("State")),
        Column("attempts", _("Tries"), numeric=True), Column("since", _("Since"), show=lambda v, r: when(v)),
        Column("error", _("Error")),
    ], rows)


def dossier_notices(dossier_id: int) -> list[dict[str, Any]]:
    """What the dossier page lists: each notification with its channel, state and, when it failed, why."""
    return [{"kind": str(KIND.get(n.kind, n.kind)), "channel": str(CHANNEL.get(n.channel, n.channel)),
             "state": str(EVERY_STATE.get(n.state, n.state)), "when": n.sent_at or n.created_at,
             "error": error_words(n.last_error) if n.state == "failed" else ""}
            for n in outbox.of_dossier(lf().db, dossier_id)]
