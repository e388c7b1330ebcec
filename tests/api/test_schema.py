"""The OpenAPI schema and docs, and Schemathesis against the live schema."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

from api.models import ApiToken
from tests.api.conftest import ApiClient, make_token
from tests.factories import DossierFactory, IncidentFactory, SourceFactory, SubjectFactory

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def test_the_schema_is_served_to_a_token_or_a_signed_in_user(client, alice):
    api = ApiClient(make_token(alice, "read"))
    schema = api.get(reverse("api:schema") + "?format=json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/dossiers/{reference}/uploads/{id}/" in schema["paths"]
    assert ApiClient().get(reverse("api:schema")).status_code == 401
    client.force_login(alice)
    assert client.get(reverse("api:schema")).status_code == 200


def test_the_docs_load_nothing_from_a_third_party_host_and_no_inline_script(client, alice):
    client.force_login(alice)
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # every script is a file
    assert "<style" not in html and "style=" not in html
    script_url = next(u for u in urls if "script=" in u).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "http://" not in script.content.decode() and "https://" not in script.content.decode()
    for asset in (u for u in urls if u.startswith("/static/")):
        assert client.get(asset).status_code == 200, asset


def test_the_docs_need_a_signed_in_user(client):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_every_error_is_a_problem_document(alice_api):
    for response in (
        alice_api.get("/api/v1/nothing-here/"),
        alice_api.get("/api/nothing/"),
        alice_api.delete("/api/v1/regimes/"),
        alice_api.post("/api/v1/dossiers/", "{not json", content_type="application/json"),
    ):
        assert response.status_code in (400, 404, 405)
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert {"type", "title", "status"} <= set(body) and body["status"] == response.status_code


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, alice, org_a, settings, tmp_path
):
    """Property-based tests of every operation of the live schema, with a fixed seed."""
    settings.API_TOKEN_RATE = "100000/minute"
    settings.API_UPLOAD_DIR = str(tmp_path / "uploads")
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    SubjectFactory(dossier=dossier)
    IncidentFactory(dossier=dossier)
    SourceFactory(dossier=dossier)
    raw = make_token(alice)
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f'[parameters]\n"path.reference" = "{dossier.reference}"\n"path.regime" = "GB-HR"\n'
    )
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file", str(config),
            "run", f"{live_server.url}/api/schema/?format=json",
            "--url", live_server.url,
            "-H", f"Authorization: Bearer {raw}",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                        "response_schema_conformance",
            # The coverage phase takes minutes here; these three take well under one.
            "--phases", "examples,fuzzing,stateful",
            "--max-examples", "6",
            "--seed", "20261124",
            "--workers", "1",
            "--no-shrink",
            "--request-timeout", "20",
            "--report", "json", "--report-json-path", str(report),
        ],
        capture_output=True,
        text=True,
        timeout=150,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
             "PYTHONPATH": str(settings.BASE_DIR)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert ApiToken.objects.get().last_used_at is not None  # it really ran against the API
    assert json.loads(report.read_text())
