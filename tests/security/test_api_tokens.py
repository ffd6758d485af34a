"""API tokens: one algorithm, exp/iat/sub required, the organization read from the database,
never from a query string; revoked with the user's sessions."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from autotrack.extensions import db as _db
from autotrack.services.people import api_tokens
from tests import factories
from tests.helpers import token_for


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def status_with(client, token, **kwargs):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}, **kwargs).status_code


def signed(claims, algorithm="HS256", key=None):
    return jwt.encode(claims, key if key is not None else api_tokens.signing_key(), algorithm=algorithm)


@pytest.mark.parametrize(
    "change", ["alg_none", "no_exp", "no_iat", "no_sub", "expired", "hs512", "other_org", "wrong_auth_version"]
)
def test_tampered_tokens_are_401(client, org, other_org, change):
    user = factories.make_user(org)
    good = token_for(client, user)
    claims = claims_of(good)
    if change == "alg_none":
        token = jwt.encode(claims, None, algorithm="none")
    elif change.startswith("no_"):
        token = signed({k: v for k, v in claims.items() if k != change[3:]})
    elif change == "expired":
        token = signed({**claims, "exp": datetime.now(UTC) - timedelta(seconds=1)})
    elif change == "hs512":
        token = signed(claims, "HS512")  # a valid signature, but not the one algorithm we accept
    elif change == "other_org":
        token = signed({**claims, "org": other_org.id})  # the organization comes from the database
    else:
        token = signed({**claims, "av": claims["av"] + 1})
    assert status_with(client, good) == 200
    assert status_with(client, token) == 401


def test_a_token_in_the_query_string_is_refused(client, org):
    user = factories.make_user(org)
    token = token_for(client, user)
    assert client.get(f"/api/v1/me?access_token={token}").status_code == 401
    assert client.get(f"/api/v1/me?token={token}").status_code == 401


def test_deactivation_and_sign_out_everywhere_revoke_tokens(client, org):
    user = factories.make_user(org)
    token = token_for(client, user)
    user.active = False
    _db.session.commit()
    assert status_with(client, token) == 401
    user.active = True
    _db.session.commit()
    fresh = token_for(client, user)
    from autotrack.models import utcnow
    from autotrack.services.people import sessions

    sessions.end_all(user, utcnow())
    _db.session.commit()
    assert status_with(client, fresh) == 401
