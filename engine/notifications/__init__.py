"""Notifications to applicants: the outbox written with the event that causes it (outbox), the texts
(texts), the channels (channels: SMTP, an HTTP SMS gateway) and the sender the scheduler runs (sender).
See docs/notifications.md."""

from .outbox import check_notify, consented, enqueue

__all__ = ["check_notify", "consented", "enqueue"]
