"""What happened, announced once: the services send these, and whoever reacts listens.

Declared in one place (a blinker `Namespace`, as indico's core/signals), so the service that
causes an event never imports the ones that react to it, and no two services import each other.
Listeners are connected by the app factory (`autotrack.register_signal_listeners`); automation
rules and webhooks can listen to the same signals later. Each is named for what happened, not
for who listens, and its receivers run in the sender's transaction.
"""

from blinker import Namespace

_signals = Namespace()

ticket_status_changed = _signals.signal(
    "ticket-status-changed",
    doc="""
A ticket moved through the transition table. Sender: the ticket. Keywords: `action` (resolve,
reopen, wait, …), `actor`, `now`. Sent after the change and its audit event, before the in-app
notices.""",
)

ticket_merged = _signals.signal(
    "ticket-merged",
    doc="""
A ticket was merged into another and closed. Sender: the duplicate. Keywords: `target`, `actor`,
`now`.""",
)

notifications_written = _signals.signal(
    "notifications-written",
    doc="""
In-app notification rows were written in the current transaction. Sender: None. Keyword:
`user_ids`, the users they are for.""",
)

email_delivering = _signals.signal(
    "email-delivering",
    doc="""
An outbox row is being turned into a message. Sender: the OutboxEmail row. Each receiver may
return `(headers, reply_to)` to add (reply_to None: no opinion); the outbox adds them.""",
)
