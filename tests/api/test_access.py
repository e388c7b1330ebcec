"""
The access matrix of every API operation, read from the generated OpenAPI schema (a new
operation is covered without a new line here): another organisation's token gets 404, a read
token cannot write, an expired, revoked or missing token is refused.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from api import services as api_services
from api.models import ApiToken
from reviews.models import InformationRequest
from submissions import services
from submissions.uploads import uploaded_from_bytes
from tests.api.conftest import ApiClient, make_token
from tests.factories import DossierFactory, IncidentFactory, SourceFactory, SubjectFactory
from tests.submissions.test_evidence import PDF

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}
# Operations that name no dossier: reference data, and starting a dossier of one's own.
NOT_DOSSIER_SCOPED = {"/api/v1/regimes/", "/api/v1/regimes/{key}/", "/api/v1/categories/",
                      "/api/v1/roles/", "/api/v1/dossiers/"}  # fmt: skip


def operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method in item:
            yield path, method.upper()


@pytest.fixture
def world(alice, lena, org_a, settings, tmp_path):
    settings.API_UPLOAD_DIR = str(tmp_path / "uploads")
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    evidence = services.attach_evidence_file(
        dossier, by=alice, upload=uploaded_from_bytes(PDF, "a.pdf"), details={}
    )
    upload = api_services.create_upload(
        dossier, by=alice, token=None, length=10, file_name="x.pdf", details={}
    )
    objects = {
        "subjects": SubjectFactory(dossier=dossier).pk,
        "incidents": IncidentFactory(dossier=dossier).pk,
        "sources": SourceFactory(dossier=dossier).pk,
        "evidence": evidence.pk,
        "requests": InformationRequest.objects.create(
            dossier=dossier, question="?", asked_by=lena
        ).pk,
        "uploads": upload.pk,
    }
    return dossier, objects


def concrete(path: str, dossier, objects) -> str:
    segments = path.strip("/").split("/")
    filled = []
    for index, segment in enumerate(segments):
        if segment == "{reference}":
            segment = dossier.reference
        elif segment in ("{regime}", "{key}"):
            segment = "GB-HR"
        elif segment == "{code}":
            segment = "torture"
        elif segment == "{id}":
            segment = str(objects[segments[index - 1]])
        filled.append(segment)
    return "/" + "/".join(filled) + "/"


def call(client, method, url):
    return client.generic(method, url, "{}", content_type="application/json", **TUS)


def test_the_matrix_covers_every_operation_of_the_schema():
    ops = list(operations())
    assert len(ops) >= 40
    assert {m for _p, m in ops} == {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_another_organisations_token_gets_404_on_every_dossier_operation(world, mallory, org_b):
    dossier, objects = world
    DossierFactory(organisation=org_b, created_by=mallory)  # she has dossiers of her own
    api = ApiClient(make_token(mallory))
    checked = 0
    for path, method in operations():
        if path in NOT_DOSSIER_SCOPED:
            continue
        response = call(api, method, concrete(path, dossier, objects))
        assert response.status_code == 404, (method, path, response.status_code)
        assert response["Content-Type"] == "application/problem+json"
        checked += 1
    assert checked >= 35
    assert dossier.subjects.count() == 1 and dossier.status == "draft"


def test_a_read_token_reads_everything_and_writes_nothing(world, alice):
    dossier, objects = world
    api = ApiClient(make_token(alice, "read"))
    for path, method in operations():
        url = concrete(path, dossier, objects)
        response = call(api, method, url)
        if method == "GET":
            assert response.status_code == 200, (path, response.status_code)
        else:
            assert response.status_code == 403, (method, path, response.status_code)
            assert "only read" in response.json()["detail"]


@pytest.mark.parametrize("state", ["expired", "revoked", "missing"])
def test_an_expired_revoked_or_missing_token_is_refused_everywhere(world, alice, state):
    dossier, objects = world
    raw = make_token(alice)
    if state == "expired":
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    elif state == "revoked":
        ApiToken.objects.update(revoked_at=timezone.now())
    api = ApiClient(None if state == "missing" else raw)
    for path, method in operations():
        response = call(api, method, concrete(path, dossier, objects))
        assert response.status_code == 401, (state, method, path, response.status_code)


def test_reviewer_actions_are_not_in_the_api():
    paths = {path for path, _method in operations()}
    assert not any(word in path for path in paths for word in ("review", "decision", "package",
                                                               "assign", "admin"))  # fmt: skip


def count_queries(api, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "path",
    ["dossiers/", "dossiers/{ref}/subjects/", "dossiers/{ref}/incidents/",
     "dossiers/{ref}/sources/", "dossiers/{ref}/evidence/", "dossiers/{ref}/requests/",
     "dossiers/{ref}/checklist/", "regimes/"],
)  # fmt: skip
def test_list_endpoints_take_a_fixed_number_of_queries(
    alice, alice_api, org_a, lena, path, django_assert_max_num_queries
):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    url = "/api/v1/" + path.replace("{ref}", dossier.reference)

    def add_rows():
        other = DossierFactory(organisation=org_a, created_by=alice)
        subject = SubjectFactory(dossier=dossier)
        IncidentFactory(dossier=dossier)
        SourceFactory(dossier=dossier)
        services.save_subject(dossier, by=alice, subject=subject, fields={"notes": "x"})
        InformationRequest.objects.create(dossier=dossier, question="?", asked_by=lena)
        services.attach_evidence_link(
            dossier, by=alice,
            details={"url": f"https://example.org/{other.pk}", "captured_at": timezone.now()},
        )  # fmt: skip
        from tests.factories import make_ready_to_submit

        make_ready_to_submit(dossier, alice)

    add_rows()
    alice_api.get(url)  # warm: the token's last use is written once a minute at most
    few = count_queries(alice_api, url)
    for _ in range(4):
        add_rows()
    # Token (with its user), the rows, and one query per prefetched relation or per part
    # of the completeness measure (the checklist loads each dossier's facts in one query per
    # kind of row: subjects, documents, posts, links, incidents, roles, exhibits ...): never
    # one per row.
    with django_assert_max_num_queries(22):
        many = count_queries(alice_api, url)
    assert many == few
