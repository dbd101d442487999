"""Schemathesis against ``/api/v1/openapi.json``: no operation answers a server error.

Issue 7, item 4. Every documented operation is called with cases generated
from its description, valid and invalid (schemathesis' positive and
negative modes), signed in as a coordinator (who may call every
operation); every answer must be no 5xx, and every error problem+json.
Bounded for CI by ``max_examples``.
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from server.extensions import db
from server.openapi import OPERATIONS
from tests import reliability
from tests.conftest import make_app
from tests.helpers import bearer, sign_in

PROBLEM = "application/problem+json"
LOGOUT = "/api/v1/auth/logout"
# Cases per operation and mode: with two modes and every operation, about a
# minute on CI's two cores.
MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, sqlite_template):
    path = tmp_path_factory.mktemp("fuzz") / "weiguang.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    app.wsgi_app = closing_each_body(app.wsgi_app)
    yield app
    with app.app_context():
        db.engine.dispose()


def closing_each_body(wsgi_app):
    """Read each answer whole and close it (schemathesis never closes a file it served)."""

    def middleware(environ, start_response):
        body = wsgi_app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return middleware


@pytest.fixture(scope="module")
def api_schema(api_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)


@pytest.fixture(scope="module")
def coordinator_token(api_app):
    return sign_in(api_app.test_client(), "coord")


def problem_details(ctx, response, case):
    """Check that every error answer is problem+json (RFC 9457) with its status."""
    if response.status_code >= 400:
        assert response.headers.get("content-type", [""])[0].startswith(PROBLEM), response.text
        assert response.json()["status"] == response.status_code


def takes_invalid_input(operation):
    """Return whether there is invalid input to send: a body, or a parameter not just text.

    (Nothing, or a string that may be any string, leaves negative mode nothing to make.)
    """
    return operation.request is not None or any(
        parameter["schema"].get("type") != "string" for parameter in operation.parameters
    )


@pytest.mark.parametrize(
    ("path", "method", "mode"),
    [
        (op.path, op.method, mode)
        for op in OPERATIONS
        for mode in GenerationMode
        if mode is GenerationMode.POSITIVE or takes_invalid_input(op)
    ],
)
def test_no_operation_answers_a_server_error(
    api_app, api_schema, coordinator_token, ledger, path, method, mode
):
    @settings(
        max_examples=MAX_EXAMPLES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    def call(case):
        # Signing out revokes the token it carries: give it one of its own.
        token = sign_in(api_app.test_client(), "coord") if path == LOGOUT else coordinator_token
        # identity: the WSGI transport would not undo the gzip of a large answer.
        response = case.call(headers={**bearer(token), "Accept-Encoding": "identity"})
        ledger.bad_inputs += 1
        ledger.server_errors += response.status_code >= 500
        case.validate_response(response, checks=[not_a_server_error, problem_details])

    call()


@pytest.fixture(scope="module")
def ledger():
    return reliability.record(
        reliability.Row("bad inputs: every operation (schemathesis)", "sqlite")
    )
