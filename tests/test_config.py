"""Configuration: embedded defaults, production safety, cookie flags."""

import pytest

from autotrack import create_app
from config import DEFAULT_SECRET_KEY, ProductionConfig, TestConfig


def test_production_refuses_the_default_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(type("Prod", (ProductionConfig,), {"SECRET_KEY": DEFAULT_SECRET_KEY}))


def test_production_refuses_a_short_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(type("Prod", (ProductionConfig,), {"SECRET_KEY": "short"}))


def test_production_with_a_real_key_has_secure_cookies():
    app = create_app(
        type(
            "Prod",
            (ProductionConfig,),
            {
                "SECRET_KEY": "x" * 64,
                "SQLALCHEMY_DATABASE_URI": TestConfig.SQLALCHEMY_DATABASE_URI,
            },
        )
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_overrides_dict_wins_over_environment_config():
    app = create_app({"AUTOTRACK_LOGIN_MAX_FAILURES": 3, "SQLALCHEMY_DATABASE_URI": TestConfig.SQLALCHEMY_DATABASE_URI})
    assert app.config["AUTOTRACK_LOGIN_MAX_FAILURES"] == 3


def test_session_cookie_is_httponly_and_lax(client, org):
    from tests import factories
    from tests.conftest import login

    response = login(client, factories.make_user(org))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_env_parsing_rejects_garbage(monkeypatch):
    import config

    monkeypatch.setitem(config._ENV, "AUTOTRACK_X", "many")
    with pytest.raises(RuntimeError, match="whole number"):
        config.env_int("AUTOTRACK_X", 1)
    monkeypatch.setitem(config._ENV, "AUTOTRACK_Y", "perhaps")
    with pytest.raises(RuntimeError, match="true or false"):
        config.env_bool("AUTOTRACK_Y")
