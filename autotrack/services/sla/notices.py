"""Who the sweep tells and how: the batch's context (rules, people, organizations, loaded
set-wise), and the audit events, in-app notifications and outbox emails of what it fired.
"""

from collections import defaultdict

from sqlalchemy import and_, or_, select

from autotrack.extensions import db
from autotrack.models import (
    Department,
    DepartmentMember,
    EscalationRule,
    MemberRole,
    Organization,
    Priority,
    User,
)
from autotrack.services import audit, notifications, outbox, policy, urls
from autotrack.services.sla.settings import CLOCK_LABELS, _local, org_settings
from autotrack.services.timefmt import duration_words


class SweepContext:
    """Everything a batch needs about organizations, people and rules, loaded set-wise."""

    @classmethod
    def load(cls, rows):
        self = cls()
        org_ids = {r["org_id"] for r in rows}
        department_ids = {r["department_id"] for r in rows}
        self.rules = defaultdict(list)
        self.quiet = set()  # (org_id, level) whose emails wait for working hours; level 0: warnings
        for rule in db.session.execute(
            select(
                EscalationRule.org_id,
                EscalationRule.level,
                EscalationRule.delay_minutes,
                EscalationRule.notify,
                EscalationRule.reassign,
                EscalationRule.working_hours_only,
            )
            .where(EscalationRule.org_id.in_(org_ids), EscalationRule.is_active.is_(True))
            .order_by(EscalationRule.level)
        ):
            self.rules[rule.org_id].append((rule.level, rule.delay_minutes, rule.notify, rule.reassign))
            if rule.working_hours_only:
                self.quiet.add((rule.org_id, rule.level))
                if rule.level == 1:
                    self.quiet.add((rule.org_id, 0))  # the warnings go with the first level
        self.calendars = {org_id: org_settings(org_id).calendar for org_id in {org for org, _ in self.quiet}}
        self._next_working = {}
        self.delays = {org_id: [(level, delay) for level, delay, _, _ in rules] for org_id, rules in self.rules.items()}
        self.members = defaultdict(lambda: {"lead": [], "manager": []})
        for department_id, user_id, role, is_lead in db.session.execute(
            select(
                DepartmentMember.department_id,
                DepartmentMember.user_id,
                DepartmentMember.role,
                DepartmentMember.is_lead,
            )
            .join(User, User.id == DepartmentMember.user_id)
            .where(
                DepartmentMember.department_id.in_(department_ids),
                User.active.is_(True),
                # a seat counts while the role allows it (a read-only role is no escalation target)
                or_(
                    and_(DepartmentMember.role == MemberRole.MANAGER, User.role_id.in_(policy.manager_role_ids())),
                    and_(DepartmentMember.role != MemberRole.MANAGER, User.role_id.in_(policy.staff_role_ids())),
                ),
            )
            .order_by(DepartmentMember.user_id)
        ):
            if role == MemberRole.MANAGER:
                self.members[department_id]["manager"].append(user_id)
            elif is_lead:
                self.members[department_id]["lead"].append(user_id)
        self.admins = defaultdict(list)
        for org_id, user_id in db.session.execute(
            select(User.org_id, User.id)
            .where(User.org_id.in_(org_ids), User.active.is_(True), User.role_id.in_(policy.org_admin_role_ids()))
            .order_by(User.id)
        ):
            self.admins[org_id].append(user_id)
        self.orgs = {
            o.id: o
            for o in db.session.execute(
                select(Organization.id, Organization.ticket_prefix, Organization.timezone).where(
                    Organization.id.in_(org_ids)
                )
            )
        }
        self.departments = dict(
            db.session.execute(select(Department.id, Department.name).where(Department.id.in_(department_ids))).all()
        )
        self.priorities = dict(
            db.session.execute(
                select(Priority.id, Priority.name).where(Priority.id.in_({r["priority_id"] for r in rows}))
            ).all()
        )
        return self

    def leads(self, department_id):
        return list(self.members[department_id]["lead"])

    def targets(self, target, row):
        """Who an escalation level notifies; an empty level falls through to the next one up."""
        order = ["lead", "manager", "org_admin"]
        for name in order[order.index(target) :]:
            users = self.admins[row["org_id"]] if name == "org_admin" else self.members[row["department_id"]][name]
            if users:
                return list(users)
        return []

    def reference(self, row):
        return f"{self.orgs[row['org_id']].ticket_prefix}-{row['number']}"

    def send_at(self, org_id, level, now, queued_at):
        """When an email of this level may go: at once, or, for a rule that keeps to working
        hours and a moment outside them, at the start of the next working period."""
        if (org_id, level) not in self.quiet or self.calendars[org_id].always:
            return queued_at
        if org_id not in self._next_working:
            self._next_working[org_id] = next(self.calendars[org_id].intervals(now))[0]
        opens = self._next_working[org_id]
        return opens if opens > now else queued_at


def _fan_out(events, now, context, result):
    """Audit events, in-app notifications and outbox emails for the events this sweep fired."""
    if not events:
        return
    user_ids = {uid for e in events for uid in e.recipients if uid} | {e.reassign_to for e in events if e.reassign_to}
    users = (
        {u.id: u for u in db.session.execute(select(User.id, User.email, User.name).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    audits, notices, emails = [], [], []
    queued_at = now  # deliverable from the sweep's moment (a sweep at a simulated `now` queues for that `now`)
    words = {}  # due -> time left before, or overdue after, the deadline (events share few dues)
    # The messages name the clock or the level: the SLA timeline tells from them which moment
    # of a sweep each notice was about (services/sla/timeline.py, _about).
    for event in events:
        if not event.told:
            continue
        row, kind, clock, level, due = event.ticket, event.kind, event.clock, event.level, event.due_at
        reference = context.reference(row)
        when = words.get(due) or words.setdefault(due, duration_words(due - now))
        if kind == "warning":
            result.warned += 1
            message = f"{reference}: {CLOCK_LABELS[clock]} due in {when}"
        elif kind == "breach":
            result.breached += 1
            message = f"{reference}: {CLOCK_LABELS[clock]} SLA breached"
        else:
            # Warnings and breaches are recorded in sla_events; an escalation changes the ticket,
            # so it is also an audit event.
            result.escalated[level] += 1
            message = f"{reference} escalated to you (level {level}): overdue by {when}"
            audits.append(
                {
                    "org_id": row["org_id"],
                    "ticket_id": row["id"],
                    "action": "escalation",
                    "from_value": level - 1,
                    "to_value": level,
                    "detail": f"{CLOCK_LABELS[clock]} overdue by {when}",
                }
            )
        if event.reassign_to and event.reassign_to != row["assignee_id"]:
            audits.append(
                {
                    "org_id": row["org_id"],
                    "ticket_id": row["id"],
                    "action": "assign",
                    "to_value": users[event.reassign_to].name,
                    "detail": f"escalation level {level}",
                }
            )
        notification_kind = "escalation" if kind == "escalation" else f"sla_{kind}"
        for user_id in dict.fromkeys(u for u in event.recipients if u):
            notices.append(
                {
                    "org_id": row["org_id"],
                    "user_id": user_id,
                    "ticket_id": row["id"],
                    "kind": notification_kind,
                    "message": message,
                }
            )
            if kind == "breach":
                continue  # the breach itself is in-app; the escalation levels send the emails
            send_at = context.send_at(row["org_id"], level, now, queued_at)
            emails.append(_email(event, users[user_id], reference, when, send_at, context))
    audit.record_many(audits, now=now)
    result.notifications += notifications.notify_many(notices, now=now)
    result.emails_queued += outbox.queue_many(emails, now=queued_at)


def _email(event, user, reference, when, send_at, context):
    row, kind, level = event.ticket, event.kind, event.level
    values = {
        "kind": kind,
        "level": level,
        "reference": reference,
        "title": row["title"],
        "user_name": user.name,
        "clock": CLOCK_LABELS[event.clock],
        "priority": context.priorities.get(row["priority_id"], ""),
        "department": context.departments.get(row["department_id"], ""),
        "due_local": _local(event.due_at, context.orgs[row["org_id"]].timezone),
        "when": when,
        "link": urls.url("agent.ticket", reference=reference),
        "reassigned": event.reassign_to == user.id,
    }
    if kind == "warning":
        subject = f"[{reference}] {values['clock'].capitalize()} due in {when}: {row['title']}"
        dedupe = f"warning:{row['id']}:{event.clock_key}:{user.id}"
    else:
        subject = f"[{reference}] Escalated to you (level {level}), overdue by {when}: {row['title']}"
        dedupe = f"escalation:{row['id']}:{level}:{user.id}"
    return {
        "org_id": row["org_id"],
        "recipient": user.email,
        "subject": subject,
        "template": "sla",
        "context": values,
        "dedupe_key": dedupe,
        "send_at": send_at,
        "ticket_id": row["id"],
    }
