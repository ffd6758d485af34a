"""Live delivery of in-app notifications to open pages (server-sent events: the stream itself,
its wire format and loop, is the web layer's, web/live_stream.py).

Notifications are rows, written in the same transaction as the change that causes them. After
that transaction commits, the users concerned are *woken*: each of their open streams reads its
new rows and sends them. The push only says "look now", so a lost push costs a delay, never a
notification:

- with REDIS_URL, wake-ups cross processes (web workers, RQ workers) over Redis pub/sub; each web
  process holds one subscription and wakes its own streams;
- without it (the embedded default) they stay in the process, where the jobs also run;
- while the subscription is down, streams fall back to reading every few seconds, and when it
  comes back every stream reads at once; a stream also reads at each heartbeat in any case.
"""

import json
import logging
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, joinedload

from autotrack.extensions import db
from autotrack.models import Notification, Ticket, User
from autotrack.services import signals
from autotrack.services.notifications import unread_count

log = logging.getLogger(__name__)

_PENDING = "autotrack.live.user_ids"  # key in Session.info: users to wake after the commit
NEW_PER_READ = 50  # a stream sends at most this many rows per read, oldest first
_closing = threading.Event()  # the process is shutting down: streams end now
_hubs = weakref.WeakSet()


def end_streams():
    """End every open stream of this process now (a stopping server process calls this, so it
    does not wait for them; the browsers reconnect elsewhere and resume)."""
    _closing.set()
    for hub in list(_hubs):
        hub.wake_all()


class Hub:
    """The open streams of this process, by user; `wake` sets their events."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting = defaultdict(set)  # user id -> {threading.Event}
        _hubs.add(self)

    def subscribe(self, user_id):
        signal = threading.Event()
        with self._lock:
            self._waiting[user_id].add(signal)
        return signal

    def unsubscribe(self, user_id, signal):
        with self._lock:
            waiting = self._waiting.get(user_id)
            if waiting is not None:
                waiting.discard(signal)
                if not waiting:
                    del self._waiting[user_id]

    def wake(self, user_ids):
        with self._lock:
            signals = [s for uid in user_ids for s in self._waiting.get(uid, ())]
        for signal in signals:
            signal.set()

    def wake_all(self):
        with self._lock:
            signals = [s for waiting in self._waiting.values() for s in waiting]
        for signal in signals:
            signal.set()

    def stream_count(self):
        with self._lock:
            return sum(len(waiting) for waiting in self._waiting.values())


class RedisRelay:
    """Publishes wake-ups to a Redis channel and, once a stream opens in this process, listens
    to it in a daemon thread that reconnects by itself."""

    def __init__(self, url, channel, hub):
        from redis import Redis

        self.url, self.channel, self.hub = url, channel, hub
        # Short timeouts: a commit must never hang on a Redis that is down.
        self._publisher = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        self._lock = threading.Lock()
        self._thread = None
        self._stop = threading.Event()
        self.connected = threading.Event()  # set while the subscription is live

    def publish(self, user_ids):
        from redis import ConnectionError as RedisConnectionError
        from redis import RedisError

        message = json.dumps(sorted(user_ids))
        try:
            try:
                self._publisher.publish(self.channel, message)
            except RedisConnectionError:
                # A pooled connection that died with a restarted Redis: the retry opens a new one.
                self._publisher.publish(self.channel, message)
        except RedisError as error:
            # The rows are committed; open streams read them at their next poll or heartbeat.
            log.warning("live: could not publish a wake-up to Redis (%s); streams will poll", error)

    def ensure_listening(self):
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._listen, name="autotrack-live", daemon=True)
                self._thread.start()

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self):
        from redis import Redis, RedisError

        delay = 0.5
        while not self._stop.is_set():
            pubsub = None
            try:
                client = Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=5)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                pubsub.get_message(timeout=1)  # the subscription's confirmation
                self.connected.set()
                self.hub.wake_all()  # read what was committed while we were not listening
                delay = 0.5
                log.info("live: listening on Redis channel %s", self.channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1)
                    if message and message["type"] == "message":
                        self.hub.wake(_user_ids(message["data"]))
            except (RedisError, OSError) as error:
                if self.connected.is_set():
                    log.warning("live: lost Redis (%s); streams poll until it is back", error)
                self.connected.clear()
                self.hub.wake_all()  # switch every stream to polling now
                self._stop.wait(delay)
                delay = min(delay * 2, 5)
            finally:
                self.connected.clear()
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except (RedisError, OSError):
                        pass


def _user_ids(data):
    try:
        return [int(uid) for uid in json.loads(data)]
    except (TypeError, ValueError):
        return []


class Live:
    """One per app: the hub of its streams and, with REDIS_URL, the relay between processes."""

    def __init__(self, config):
        self.hub = Hub()
        self.relay = None
        if config.get("REDIS_URL"):
            self.relay = RedisRelay(config["REDIS_URL"], config["AUTOTRACK_LIVE_CHANNEL"], self.hub)
        self.slots = threading.BoundedSemaphore(config["AUTOTRACK_STREAM_SLOTS"])
        self.heartbeat = config["AUTOTRACK_STREAM_HEARTBEAT_SECONDS"]
        self.poll = config["AUTOTRACK_STREAM_POLL_SECONDS"]
        self.lifetime = config["AUTOTRACK_STREAM_SECONDS"]

    def publish(self, user_ids):
        if self.relay is None:
            self.hub.wake(user_ids)
        else:
            self.relay.publish(user_ids)

    @property
    def pushing(self):
        """Whether wake-ups reach this process now (else its streams poll)."""
        return self.relay is None or self.relay.connected.is_set()

    def wait_seconds(self):
        return self.heartbeat if self.pushing else min(self.poll, self.heartbeat)

    def close(self):
        if self.relay is not None:
            self.relay.close()


def init_app(app):
    app.extensions["autotrack.live"] = Live(app.config)


def current():
    return current_app.extensions["autotrack.live"]


# --- wake-ups follow commits -------------------------------------------------------------------


def connect_signals():
    """Wake the streams of whoever was notified (called once by the app factory)."""
    signals.notifications_written.connect(_on_notifications_written)


def _on_notifications_written(_sender, *, user_ids, **_):
    announce(user_ids)


def announce(user_ids):
    """Wake these users' streams once the current transaction commits (never before: a stream
    woken early would read nothing, and a rolled-back notification must not be pushed)."""
    db.session.info.setdefault(_PENDING, set()).update(u for u in user_ids if u is not None)


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session):
    user_ids = session.info.pop(_PENDING, None)
    if user_ids and has_app_context() and "autotrack.live" in current_app.extensions:
        current().publish(user_ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop(_PENDING, None)


# --- what a stream reads (its wire and loop: web/live_stream.py) --------------------------------


@dataclass
class Delivery:
    """What a stream sends for one notification."""

    id: int
    kind: str
    message: str
    reference: str | None
    url: str | None


def closing():
    """Whether this process is shutting down (its streams end now)."""
    return _closing.is_set()


def latest_id(user_id):
    """The newest notification id of the user (a page starts its stream after it)."""
    return db.session.scalar(select(func.max(Notification.id)).where(Notification.user_id == user_id)) or 0


def read_new(user_id, after_id, ticket_url, count=False):
    """(deliveries, unread count) of the user's notifications after `after_id`, oldest first, or
    None when the user may no longer be signed in. The count is None when nothing is new, unless
    `count`. `ticket_url(user, ticket)` links a notification's ticket (the caller's to build).
    Ends the transaction: a waiting stream holds no database connection."""
    try:
        user = db.session.get(User, user_id)
        if user is None or not user.is_active:
            return None
        rows = db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.id > after_id)
            .order_by(Notification.id)
            .limit(NEW_PER_READ)
            .options(joinedload(Notification.ticket).joinedload(Ticket.organization))
        ).all()
        deliveries = [
            Delivery(
                n.id,
                n.kind,
                n.message,
                n.ticket.reference if n.ticket else None,
                ticket_url(user, n.ticket) if n.ticket else None,
            )
            for n in rows
        ]
        return deliveries, (unread_count(user) if rows or count else None)
    finally:
        db.session.rollback()
        db.session.close()
