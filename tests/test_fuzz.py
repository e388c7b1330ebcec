"""
Hostile input, generated: whatever is typed or uploaded, the portal answers with a page or a
clear refusal (never a server error) and writes all of a change or none of it.
"""

import hashlib
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from submissions.fields import validate_partial_date
from submissions.models import Evidence, Incident, Subject
from submissions.uploads import clean_file_name
from tests.conftest import PortalClient
from tests.factories import DossierFactory, SubjectFactory

HOSTILE = {"tried": 0, "failures": 0}
# Text as attackers and real people type it: any script, control characters, huge, markup.
TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=250, max_size=5000),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "'; DROP TABLE submissions_dossier; --",
            "../../etc/passwd",
            "\x00\x01\x1b[31m",
            "Ｉｖａｎ Ｐｅｔｒｏｖ",
            "إيفان بيتروف",
            "${jndi:ldap://x}",
            "{{ 7*7 }}",
        ]
    ),
)
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def tried(failed: bool) -> None:
    HOSTILE["tried"] += 1
    HOSTILE["failures"] += failed


@given(st.text(max_size=40))
@EXAMPLES
def test_partial_dates_are_accepted_or_refused_never_crash(value):
    try:
        validate_partial_date(value)
    except ValidationError:
        tried(False)
        return
    ok = value == "" or re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value)
    tried(not ok)
    assert ok


@given(st.text(max_size=600))
@EXAMPLES
def test_file_names_become_safe_data(name):
    clean = clean_file_name(name)
    bad = (
        "/" in clean
        or "\\" in clean
        or any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in clean)
        or not 0 < len(clean) <= 255
    )
    tried(bad)
    assert not bad


@pytest.fixture
def member_client(alice):
    client = PortalClient()
    client.force_login(alice)
    return client


@given(
    name=TEXT,
    original=TEXT,
    aliases=TEXT,
    birth=st.one_of(TEXT, st.sampled_from(["1970", "1970-02-30", "2999", "19-70"])),
    nationality=st.sampled_from(["RU", "XX", "", "ru", "RUS", "<b>"]),
)
@EXAMPLES
def test_subject_form_never_errors_and_saves_all_or_nothing(
    member_client, alice, org_a, name, original, aliases, birth, nationality
):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    data = {
        "kind": "person",
        "name": name,
        "name_original": original,
        "aliases": aliases,
        "birth_date": birth,
        "nationalities": [nationality],
        "documents-TOTAL_FORMS": "1",
        "documents-INITIAL_FORMS": "0",
        "documents-0-kind": "passport",
        "documents-0-number": name[:100],
        "positions-TOTAL_FORMS": "0",
        "positions-INITIAL_FORMS": "0",
        "links-TOTAL_FORMS": "0",
        "links-INITIAL_FORMS": "0",
    }
    response = member_client.post(
        reverse("submissions:subject-create", args=[dossier.reference]), data
    )
    subjects = Subject.objects.filter(dossier=dossier)
    if response.status_code == 302:
        ok = subjects.count() == 1
    else:
        ok = response.status_code == 200 and not subjects.exists()
    tried(not ok)
    assert ok, (response.status_code, subjects.count())


@given(
    start=st.one_of(TEXT, st.sampled_from(["2023", "2023-05", "2023-13"])),
    end=st.one_of(TEXT, st.sampled_from(["", "2022", "2024-01-01"])),
    victims=st.one_of(TEXT, st.integers(min_value=-(2**70), max_value=2**70).map(str)),
    narrative=TEXT,
)
@EXAMPLES
def test_incident_form_never_errors_and_saves_all_or_nothing(
    member_client, alice, org_a, start, end, victims, narrative
):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    subject = SubjectFactory(dossier=dossier)
    data = {
        "title": narrative[:200],
        "category": "",
        "start_date": start,
        "end_date": end,
        "country": "RU",
        "victims_count": victims,
        "narrative": narrative,
        "involvements-TOTAL_FORMS": "1",
        "involvements-INITIAL_FORMS": "0",
        "involvements-0-subject": subject.pk,
        "involvements-0-role": "",
    }
    from submissions.models import ViolationCategory

    data["category"] = ViolationCategory.objects.get(code="torture").pk
    response = member_client.post(
        reverse("submissions:incident-create", args=[dossier.reference]), data
    )
    incidents = Incident.objects.filter(dossier=dossier)
    ok = response.status_code in (200, 302) and incidents.count() == (
        1 if response.status_code == 302 else 0
    )
    tried(not ok)
    assert ok


@given(content=st.binary(max_size=4096), name=TEXT)
@EXAMPLES
def test_uploads_of_any_bytes_and_names_are_kept_whole_or_refused(
    member_client, alice, org_a, content, name
):
    import io

    dossier = DossierFactory(organisation=org_a, created_by=alice)
    upload = io.BytesIO(content)
    upload.name = name.replace("\r", "").replace("\n", "").replace('"', "") or "x"
    response = member_client.post(
        reverse("submissions:evidence-upload", args=[dossier.reference]),
        {"files": [upload]},
        headers={"accept": "application/json"},
    )
    exhibits = list(Evidence.objects.filter(dossier=dossier))
    if response.status_code == 200:
        ok = len(exhibits) == 1 and exhibits[0].sha256 == hashlib.sha256(content).hexdigest()
    else:
        ok = response.status_code == 400 and exhibits == []
    tried(not ok)
    assert ok
