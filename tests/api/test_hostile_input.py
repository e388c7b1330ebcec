"""Crafted bodies get a 4xx problem, never a server error: too large, too deep, too many."""

import json

import pytest
from django.test.client import MULTIPART_CONTENT

from api.parsers import MAX_DEPTH, nests_within
from api.views import NDJSONParser
from tests.api.conftest import ApiClient, make_token
from tests.factories import DossierFactory

LIST = "/api/v1/dossiers/"
NDJSON = "application/x-ndjson"
PROBLEM = "application/problem+json"
DOSSIER = {"title": "Case", "target_regimes": ["GB-HR"], "summary": "S", "sensitivity": "high"}


@pytest.fixture
def api(alice):
    """A client that answers a server error with a 500 response instead of raising it."""
    return ApiClient(make_token(alice), raise_request_exception=False)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
def test_json_nested_too_deeply_is_a_400_problem(api, depth):
    response = api.post(LIST, nested(depth))
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert f"deeper than {MAX_DEPTH} levels" in response.json()["title"]


@pytest.mark.parametrize("body", ["[" * 100_000, "{" * 50_000, '{"a": ' * 50_000])
def test_unclosed_json_nesting_is_a_400_problem(api, body):
    response = api.post(LIST, body)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM


def test_nesting_up_to_the_limit_reaches_the_serializer(api):
    body = json.loads(nested(MAX_DEPTH - 1))
    response = api.post(LIST, {**DOSSIER, "summary": body})
    assert response.status_code == 400  # a list is no summary, but the body was read
    assert "summary" in response.json()["errors"]


def test_brackets_inside_strings_do_not_count(api):
    response = api.post(LIST, {**DOSSIER, "summary": "[" * 1_000 + '{"\\"' + "}" * 10})
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("text", "within"),
    [
        ("[]", True),
        (nested(MAX_DEPTH), True),
        (nested(MAX_DEPTH + 1), False),
        ('{"a": [1, {"b": "[[[[[["}], "c": {}}', True),
        ('"\\"[[["', True),  # an escaped quote does not end the string
        ("]][[", False),
        ('["open string', False),
        ("[" * 2_500_000, False),
        ("[]" * 1_250_000, True),
    ],
)
def test_nesting_is_measured_outside_strings(text, within):
    assert nests_within(text) is within


def test_a_json_body_over_the_memory_limit_is_a_413_problem(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api.post(LIST, {**DOSSIER, "summary": "x" * 20_000})
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"].endswith("too-large")
    assert "10000 bytes" in response.json()["detail"]


def test_a_json_body_of_the_default_limit_and_more_is_a_413_problem(api):
    response = api.post(LIST, {**DOSSIER, "summary": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_too_many_form_fields_is_a_400_problem(api, alice, org_a, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    draft = DossierFactory(organisation=org_a, created_by=alice)
    data = {f"field{n}": "x" for n in range(20)}
    response = api.post(
        f"{LIST}{draft.reference}/evidence/upload/", data, content_type=MULTIPART_CONTENT
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM


def test_an_ftm_line_nested_too_deeply_is_refused(api, alice, org_a):
    draft = DossierFactory(organisation=org_a, created_by=alice)
    body = '{"id": "a", "schema": "Person", "properties": {"name": ' + nested(100_000) + "}}"
    response = api.post(f"{LIST}{draft.reference}/ftm/", body, content_type=NDJSON)
    assert response.status_code == 400
    assert "Line 1" in response.json()["detail"]
    assert not draft.subjects.exists()


def test_an_ftm_import_over_its_size_limit_is_a_413_problem(api, alice, org_a, monkeypatch):
    monkeypatch.setattr(NDJSONParser, "MAX_BYTES", 1_000)
    draft = DossierFactory(organisation=org_a, created_by=alice)
    line = json.dumps({"id": "a", "schema": "Person", "properties": {"name": ["Ivan"]}})
    response = api.post(
        f"{LIST}{draft.reference}/ftm/", "\n".join([line] * 50), content_type=NDJSON
    )
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert not draft.subjects.exists()
