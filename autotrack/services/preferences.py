"""Each user's notification preferences: per topic, whether notices come by email and in the app.

SLA warnings, escalations and overdue reminders are not a topic: they always reach their people,
so no SLA is missed because somebody muted it.
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from autotrack.extensions import db
from autotrack.models import NotificationPreference, User


@dataclass(frozen=True)
class Topic:
    label: str
    email: bool  # the default when the user has not chosen
    in_app: bool
    has_email: bool = True  # whether notices of this topic are ever mailed


TOPICS = {
    "my_tickets": Topic("Replies and status changes on tickets I raised", email=True, in_app=True),
    "watched": Topic("Public updates on tickets I follow or am copied on", email=True, in_app=True),
    "work": Topic(
        "New tickets in my departments, tickets and tasks assigned to me", email=False, in_app=True, has_email=False
    ),
}
CHANNELS = ("email", "in_app")


def for_user(user):
    """{topic: {"email": bool, "in_app": bool}} as they apply to `user` now."""
    chosen = {
        row.topic: row
        for row in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    return {
        name: {channel: getattr(chosen.get(name) or topic, channel) for channel in CHANNELS}
        for name, topic in TOPICS.items()
    }


def save(user, choices):
    """Store `choices` ({topic: {channel: bool}}); topics and channels not named keep theirs."""
    current = for_user(user)
    for name, channels in choices.items():
        if name not in TOPICS:
            continue
        values = {channel: bool(channels.get(channel, current[name][channel])) for channel in CHANNELS}
        if not TOPICS[name].has_email:
            values["email"] = False
        row = db.session.get(NotificationPreference, (user.id, name))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, topic=name, **values))
        else:
            row.email, row.in_app = values["email"], values["in_app"]
    db.session.flush()
    return for_user(user)


def wanting(user_ids, topic, channel):
    """The ids among `user_ids` who take `topic`'s notices on `channel` (one query)."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return set()
    return set(db.session.scalars(select(User.id).where(User.id.in_(ids), wanting_clause(User.id, topic, channel))))


def wanting_clause(user_id, topic, channel):
    """SQL: the user `user_id` (a column) takes `topic`'s notices on `channel`: as they chose,
    else the topic's default. For a statement that writes notices to those who want them."""
    column = getattr(NotificationPreference, channel)
    chosen = (
        select(column)
        .where(NotificationPreference.user_id == user_id, NotificationPreference.topic == topic)
        .scalar_subquery()
    )
    return func.coalesce(chosen, getattr(TOPICS[topic], channel)).is_(True)


def wants(user, topic, channel):
    return user is not None and user.id in wanting([user.id], topic, channel)
