"""Rules for changing users: an organization always keeps at least one active org admin, and an
address taken elsewhere is refused without saying so."""

from sqlalchemy import func, select

from autotrack.extensions import db
from autotrack.models import User
from autotrack.services import policy
from autotrack.services.errors import ValidationError

# Emails are unique across the deployment, so an address may be refused because someone of
# another organization has it: the refusal says nothing about who, or whether, anyone has it.
EMAIL_REFUSED = "This address cannot be used."


def check_email_usable(email, user_id=None):
    """Refuse `email` (normalized) when any other user has it, in this organization or another,
    in the same words either way."""
    with db.session.no_autoflush:  # the user being created or changed may be pending with this very email
        taken = db.session.scalar(select(User.id).where(User.email == email, User.id != (user_id or 0)).limit(1))
    if taken is not None:
        raise ValidationError(EMAIL_REFUSED, {"email": EMAIL_REFUSED})


def ensure_an_admin_remains(user):
    """Refuse a pending change to `user` (role or active flag, not yet flushed) that would leave
    its organization without an active org admin."""
    with db.session.no_autoflush:  # count the others as stored; judge `user` by its new values
        others = db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.org_id == user.org_id,
                User.id != user.id,
                User.active.is_(True),
                User.role_id.in_(policy.org_admin_role_ids()),
            )
        )
        stays_admin = bool(user.active) and policy.is_org_admin(user)
    if not others and not stays_admin:
        raise ValidationError("An organization needs at least one active org admin: make someone else org admin first.")


def drop_memberships_the_role_no_longer_allows(user):
    """After a role change: an employee works in no department queue and is no escalation
    target; a non-manager manages no department."""
    for member in list(user.memberships):
        if not policy.may_hold_seat(user, member.role):
            user.memberships.remove(member)
            db.session.delete(member)
