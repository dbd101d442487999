"""The app factory and its configuration."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from server import config, create_app
from server.extensions import db
from tests.servers import TEST_SECRET_KEY


def test_settings_come_from_weiguang_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WEIGUANG_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("WEIGUANG_MAX_BODY_BYTES", "1234")
    monkeypatch.setenv("WEIGUANG_SECRET_KEY", "from-env")
    monkeypatch.setenv("WEIGUANG_FEATURE_FLAG", "true")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"
    assert app.config["MAX_CONTENT_LENGTH"] == 1234
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["WEIGUANG"]["FEATURE_FLAG"] is True


def test_test_mapping_replaces_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WEIGUANG_SECRET_KEY", "from-env")
    app = create_app({"SECRET_KEY": "from-test", "DATABASE_URL": f"sqlite:///{tmp_path}/t.db"})
    assert app.config["SECRET_KEY"] == "from-test"


def test_default_database_is_sqlite_in_instance_folder(monkeypatch):
    monkeypatch.delenv("WEIGUANG_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": TEST_SECRET_KEY})
    expected = "sqlite:///" + os.path.join(app.instance_path, "weiguang.db")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024


def test_postgresql_url_works_as_written_with_psycopg2():
    expected = "postgresql+psycopg2://u@h/db"
    assert config.normalise_database_url("postgresql://u@h/db") == expected
    assert config.normalise_database_url("postgres://u@h/db") == expected
    assert config.normalise_database_url(expected) == expected


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [("journal_mode", "wal"), ("foreign_keys", 1), ("busy_timeout", 15000)],
)
def test_every_sqlite_connection_is_configured(app, pragma, expected):
    with app.app_context():
        for _ in range(2):  # a fresh pooled connection each time
            with db.engine.connect() as connection:
                assert connection.execute(text(f"PRAGMA {pragma}")).scalar() == expected
            db.engine.dispose()


def test_sqlite_savepoints_roll_back_alone(app):
    from server.models import Neighbourhood

    with app.app_context():
        db.session.add(Neighbourhood(id="n-outer", slug="outer", name="outer"))
        nested = db.session.begin_nested()
        db.session.add(Neighbourhood(id="n-inner", slug="inner", name="inner"))
        nested.rollback()
        db.session.commit()
        assert db.session.get(Neighbourhood, "n-outer") is not None
        assert db.session.get(Neighbourhood, "n-inner") is None


@pytest.mark.parametrize("key", [None, "", config.DEVELOPMENT_SECRET_KEY])
def test_outside_development_a_real_secret_key_is_required(monkeypatch, tmp_path, key):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    settings = {"DATABASE_URL": f"sqlite:///{tmp_path}/k.db", "SECRET_KEY": key}
    with pytest.raises(config.ConfigError, match="WEIGUANG_SECRET_KEY"):
        create_app(settings)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert create_app(settings).config["SECRET_KEY"] == config.DEVELOPMENT_SECRET_KEY
