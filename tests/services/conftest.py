"""The service tests' fixtures."""

import pytest

from tests import factories


@pytest.fixture
def team(org):
    """An employee, and in the default department an agent, a lead, a manager; and the org admin."""
    support = factories.default_department(org)
    return {
        "employee": factories.make_user(org, "employee", email="emp@acme.example"),
        "agent": factories.make_user(org, "agent", department=support, email="agent@acme.example"),
        "lead": factories.make_user(org, "agent", department=support, lead=True, email="lead@acme.example"),
        "manager": factories.make_user(org, "manager", department=support, email="boss@acme.example"),
        "admin": factories.admin_of(org),
    }
