"""Saved queue views: an agent's own or shared with their department, only known filters kept."""

from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import SavedView
from autotrack.services.errors import NotFound, ValidationError
from autotrack.services.org import orgs
from autotrack.services.tickets import saved_views
from autotrack.services.tickets.queues import FilterArgs
from autotrack.web.queue_args import filter_args
from tests import factories
from tests.conftest import login, post_form


@pytest.fixture
def team(org):
    support = factories.default_department(org)
    facilities = orgs.create_department(org, "Facilities")
    _db.session.commit()
    return {
        "sam": factories.make_user(org, "agent", department=support, name="Sam"),
        "kim": factories.make_user(org, "agent", department=support, name="Kim"),
        "pat": factories.make_user(org, "agent", department=facilities, name="Pat"),
        "support": support,
        "facilities": facilities,
    }


def test_a_view_keeps_only_the_queues_filters_and_is_shared_with_the_department(org, other_org, team):
    p1 = factories.priority(org, "P1")
    mine = saved_views.save(
        team["sam"], "My P1s", filter_args({"view": "mine", "priority": str(p1.id), "evil": "<script>"})
    )
    shared = saved_views.save(
        team["sam"], "Breached in Support", FilterArgs(view="open", sla="breached"), department_id=team["support"].id
    )
    _db.session.commit()
    assert parse_qs(mine.query) == {"view": ["mine"], "priority": [str(p1.id)]}
    assert [v.name for v in saved_views.available(team["sam"])] == ["Breached in Support", "My P1s"]
    assert [v.name for v in saved_views.available(team["kim"])] == ["Breached in Support"]  # shared, not private
    assert saved_views.available(team["pat"]) == []
    assert saved_views.available(factories.make_user(other_org, "agent")) == []
    with pytest.raises(ValidationError):
        saved_views.save(
            team["sam"], "Theirs", FilterArgs(), department_id=team["facilities"].id
        )  # not Sam's department
    with pytest.raises(ValidationError):
        saved_views.save(team["sam"], "  ", FilterArgs())
    with pytest.raises(NotFound):
        saved_views.delete(team["kim"], shared.id)  # only its owner deletes it
    with pytest.raises(NotFound):
        saved_views.delete(factories.make_user(other_org, "agent"), mine.id)


def test_the_queue_saves_lists_and_deletes_views(client, org, team):
    login(client, team["sam"])
    saved = post_form(
        client, "/agent/views", {"name": "At risk", "filters": "view=at_risk&sla=at_risk"}, token_from="/agent/"
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/agent/?view=at_risk&sla=at_risk")
    page = client.get("/agent/").get_data(as_text=True)
    assert "At risk</a>" in page
    refused = post_form(client, "/agent/views", {"name": "", "filters": "view=open"}, token_from="/agent/")
    assert refused.status_code == 400
    assert "Not saved: Give the view a name. 1 to 80 characters." in refused.get_data(as_text=True)
    view = _db.session.scalar(select(SavedView))
    assert post_form(client, f"/agent/views/{view.id}/delete", {}, token_from="/agent/").status_code == 302
    assert _db.session.scalar(select(SavedView)) is None
