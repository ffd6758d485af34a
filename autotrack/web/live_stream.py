"""The live notification stream of one open page, as server-sent events (text/event-stream).

The wire format and the stream's loop live here, in the web layer; services/live.py keeps what
wakes a stream (the hub of this process, the Redis relay, wake-ups after commits) and reads the
user's new notifications."""

import json
import logging
import time

from autotrack.services import live

log = logging.getLogger("autotrack.services.live")  # the stream's words stay where operators look


def notification_event(delivery, unread):
    """One notification as an SSE event; its id is what the browser resumes after."""
    data = {
        "id": delivery.id,
        "kind": delivery.kind,
        "message": delivery.message,
        "reference": delivery.reference,
        "url": delivery.url,
        "unread": unread,
    }
    return f"id: {delivery.id}\nevent: notification\ndata: {json.dumps(data)}\n\n"


def unread_event(unread):
    return f"event: unread\ndata: {json.dumps({'unread': unread})}\n\n"


def stream(user_id, after_id, ticket_url, clock=time.monotonic):
    """The text/event-stream of one open page: new notifications as they are committed, an
    `unread` count at the start, a comment as heartbeat (a closed page shows up as a failed
    write), and an end after AUTOTRACK_STREAM_SECONDS (the browser reconnects, sending the last
    id it saw: nothing is lost, and threads and deploys are never held for long).
    `ticket_url(user, ticket)` is the link of a notification's ticket."""
    state = live.current()
    if not state.slots.acquire(blocking=False):
        # Every stream slot of this process is taken: ask the browser to come back later
        # rather than let streams starve ordinary requests of threads.
        log.warning("live: every stream slot is taken; a page will retry in 30 s")
        yield "retry: 30000\n\n"
        return
    signal = state.hub.subscribe(user_id)
    try:
        if state.relay is not None:
            state.relay.ensure_listening()
        yield "retry: 3000\n\n"
        ends_at = clock() + state.lifetime
        first = True
        while clock() < ends_at and not live.closing():
            signal.clear()  # a wake-up during the read below makes the wait return at once
            news = live.read_new(user_id, after_id, ticket_url, count=first)
            if news is None:
                return
            deliveries, unread = news
            if first and not deliveries:
                yield unread_event(unread)  # the bell may be stale after a reconnect
            first = False
            for delivery in deliveries:
                yield notification_event(delivery, unread)
                after_id = delivery.id
            if len(deliveries) == live.NEW_PER_READ:
                continue  # more are waiting
            if not signal.wait(state.wait_seconds()) and not live.closing():
                yield ": keep-alive\n\n"
    finally:
        state.hub.unsubscribe(user_id, signal)
        state.slots.release()
