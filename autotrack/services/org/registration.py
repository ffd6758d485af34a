"""Self-registration of staff: an account is opened only for someone in the organization's
directory, with the name, department and role the directory gives."""

from sqlalchemy import func, select

from autotrack.extensions import db
from autotrack.models import DirectoryEntry, Organization, User
from autotrack.services.errors import ValidationError
from autotrack.services.org import orgs
from autotrack.services.people import accounts


def register(org_code, employee_id, email, password):
    """Create and return the user for this directory entry; ValidationError (with the field to
    blame) when the organization, the id or the email does not match, or the account exists."""
    org = db.session.scalar(
        select(Organization).where(
            Organization.slug == (org_code or "").strip().lower(), Organization.is_active.is_(True)
        )
    )
    if org is None:
        raise ValidationError(
            "Check the organization code: it is the short name your administrator gave you.",
            {"organization": "Unknown organization code."},
        )
    employee_id = (employee_id or "").strip()
    entry = db.session.scalar(
        select(DirectoryEntry).where(
            DirectoryEntry.org_id == org.id,
            func.lower(DirectoryEntry.employee_id) == employee_id.lower(),
            DirectoryEntry.active.is_(True),
        )
    )  # no longer listed by the directory source: not any more
    if entry is None:
        raise ValidationError(
            f"Employee id {employee_id!r} is not in {org.name}'s staff directory. "
            "Check it, or ask your administrator to add you.",
            {"employee_id": "Not in the staff directory."},
        )
    email = accounts.normalize_email(email)
    if email != accounts.normalize_email(entry.email):
        # Say only that they do not match: which email belongs to an id is not told.
        raise ValidationError(
            "That email is not the one the staff directory has for this employee id.",
            {"email": "Does not match the staff directory."},
        )
    already = db.session.scalar(
        select(User.id).where(
            (User.email == email) | ((User.org_id == org.id) & (User.employee_id == entry.employee_id))
        )
    )
    if already is not None:
        raise ValidationError("You have an account already: sign in instead.", {"email": "Already registered."})
    accounts.check_password_strength(password)
    role_key = (entry.role.builtin or entry.role.name) if entry.role is not None else "employee"
    user = orgs.create_user(
        org,
        email,
        role_key=role_key,
        password=password,
        name=f"{entry.first_name} {entry.last_name}",
        department=entry.department,
    )
    user.employee_id = entry.employee_id
    if user.department_id is None and entry.department_id is not None:
        user.department_id = entry.department_id  # staff work in it as members; everyone belongs to it
    db.session.flush()
    return user
