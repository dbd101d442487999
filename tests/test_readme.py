"""What the README tells a new user holds: its sign-in works, the docs it names answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers import DEMO_PASSWORD

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def section(title):
    """Return the text of the README's ``## title`` section."""
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def run_demo_password():
    """Return the demo password scripts/run-demo uses when none is chosen."""
    script = (Path(__file__).resolve().parents[1] / "scripts" / "run-demo").read_text()
    return re.search(r"WEIGUANG_DEMO_PASSWORD:-([^}]+)\}", script).group(1)


def test_readme_sign_in_request_is_what_the_api_takes(client):
    body = re.search(r"auth/login .*?-d '(\{.*?\})'", section("The API"), re.DOTALL)
    assert body, "the README shows no sign-in request"
    fields = json.loads(body.group(1))
    assert set(fields) == {"username", "password", "device_name"}
    assert fields["password"] == run_demo_password(), "the README's sign-in is not run-demo's"
    # The README's password is run-demo's; the test database's is the suite's.
    reply = client.post("/api/v1/auth/login", json={**fields, "password": DEMO_PASSWORD})
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["token"]


def test_readme_names_the_api_docs_and_they_answer(client):
    for path in ("/api/v1/docs", "/api/v1/openapi.json"):
        assert path in section("The API")
        assert client.get(path).status_code == 200, path


def test_readme_postgresql_recipe_says_where_its_venv_comes_from():
    recipe = section("PostgreSQL and several processes")
    assert "`.venv` that the two commands above create" in recipe
    commands = recipe.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    runs_weiguang = [line for line in commands if "weiguang " in line or "scripts/" in line]
    assert runs_weiguang
    assert all(".venv/bin" in line for line in runs_weiguang), runs_weiguang
