"""The public intake pages and the organisation's queue, through HTTP."""

import logging
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from intake.gunicorn import AccessLogger
from intake.models import Intake
from portal.models import AuditEvent
from submissions.models import Dossier

from .conftest import REPORTER_AGENT, REPORTER_IP, challenge_of, solve

REPORTER = {"REMOTE_ADDR": REPORTER_IP, "HTTP_USER_AGENT": REPORTER_AGENT}


def _report_data(client, regimes, organisation, photo, **extra):
    page = client.get(reverse("intake:new"), **REPORTER)
    token = challenge_of(page)
    data = {
        "challenge": token,
        "counter": solve(token),
        "account": "Soldiers beat my brother at the checkpoint.",
        "reporter_role": "relative",
        "reporter_contact": "Signal +855 99 999 999",
        "organisation": str(organisation.pk),
        f"consent_{regimes[0].pk}": "anonymous",
        "files": SimpleUploadedFile("checkpoint.jpg", photo, content_type="image/jpeg"),
    }
    return {**data, **extra}


def _file(client, regimes, organisation, photo, **extra):
    data = _report_data(client, regimes, organisation, photo, **extra)
    response = client.post(reverse("intake:new"), data, **REPORTER)
    assert response.status_code == 200, response.content.decode()[:2000]
    code = re.search(r'id="receipt-code"[^>]*>([0-9 ]+)<', response.content.decode()).group(1)
    return response, code


def _every_stored_value() -> str:
    """Every cell of every table, as text."""
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from Django)
            cells.extend(str(cell) for row in cursor.fetchall() for cell in row)
    return "\n".join(cells)


def test_no_ip_or_user_agent_of_a_reporter_in_the_database_or_logs(
    client, receiving, regimes, photo, caplog
):
    caplog.set_level(logging.DEBUG)
    response, code = _file(client, regimes, receiving, photo)
    assert response.headers["Cache-Control"].count("no-store")
    back = client.get(reverse("intake:come-back"), **REPORTER)
    token = challenge_of(back)
    client.post(
        reverse("intake:come-back"),
        {"code": code, "challenge": token, "counter": solve(token)},
        **REPORTER,
    )
    client.post(reverse("intake:case-reply"), {"body": "More details."}, **REPORTER)
    client.get("/report/no-such-page/", **REPORTER)  # a 404 is logged by django.request
    assert Intake.objects.count() == 1
    stored = _every_stored_value()
    assert REPORTER_IP not in stored and REPORTER_AGENT not in stored
    assert caplog.records, "the 404 should have been logged"
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert REPORTER_IP not in text and REPORTER_AGENT not in text, record
        # No handler (an error e-mail to ADMINS, a formatter) gets the request to read from.
        assert getattr(record, "request", None) is None, record


def test_the_web_servers_access_log_leaves_reporters_out():
    from datetime import timedelta

    from gunicorn.config import Config

    logger = AccessLogger(Config())

    class Request:
        headers = [("USER-AGENT", REPORTER_AGENT), ("X-FORWARDED-FOR", REPORTER_IP)]

    class Response:
        status, sent, headers = "200 OK", 10, []

    def atoms(path):
        environ = {
            "REMOTE_ADDR": REPORTER_IP,
            "HTTP_USER_AGENT": REPORTER_AGENT,
            "REQUEST_METHOD": "POST",
            "RAW_URI": path,
            "PATH_INFO": path,
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        return logger.atoms(Response(), Request(), environ, timedelta(seconds=1))

    assert REPORTER_IP not in str(atoms("/report/new/"))
    assert REPORTER_AGENT not in str(atoms("/report/new/"))
    assert atoms("/dossiers/")["h"] == REPORTER_IP  # other pages keep the usual log


def test_a_reporter_files_comes_back_and_answers_a_question(
    client, receiving, regimes, photo, alice
):
    _response, code = _file(client, regimes, receiving, photo)
    intake = Intake.objects.get()
    assert intake.organisation == receiving and intake.files.count() == 1
    assert intake.consents.get().regime == regimes[0]
    member = type(client)()
    member.force_login(alice)
    assert intake.reference in member.get(reverse("intake:queue")).content.decode()
    member.post(
        reverse("intake:queue-reply", args=[intake.reference]), {"body": "Which checkpoint?"}
    )
    reporter = type(client)()  # another visit, another browser
    assert reporter.get(reverse("intake:case")).status_code == 302  # the code is needed
    page = reporter.get(reverse("intake:come-back"))
    token = challenge_of(page)
    opened = reporter.post(
        reverse("intake:come-back"), {"code": code, "challenge": token, "counter": solve(token)}
    )
    assert opened.status_code == 302
    case = reporter.get(reverse("intake:case")).content.decode()
    assert "Which checkpoint?" in case and "SecretCam" in case  # the photo's hidden details
    reporter.post(reverse("intake:case-reply"), {"body": "The one on road 5."})
    assert [m.body for m in intake.messages.filter(from_reporter=True)] == ["The one on road 5."]
    photo_row = intake.files.get()
    reporter.post(reverse("intake:case-remove-details", args=[photo_row.pk]))
    photo_row.refresh_from_db()
    assert photo_row.metadata_removed


def test_wrong_codes_are_throttled_per_client(client, settings, filed):
    _intake, code = filed
    settings.INTAKE_CODE_FAILURES_PER_CLIENT = 3
    wrong = "1" * 30
    for _attempt in range(3):
        page = client.get(reverse("intake:come-back"), **REPORTER)
        token = challenge_of(page)
        response = client.post(
            reverse("intake:come-back"),
            {"code": wrong, "challenge": token, "counter": solve(token)},
            **REPORTER,
        )
        assert response.status_code == 400
    blocked = client.post(reverse("intake:come-back"), {"code": code}, **REPORTER)
    assert blocked.status_code == 429  # even the right code waits
    other = client.get(reverse("intake:come-back"), REMOTE_ADDR="198.51.100.1")
    assert other.status_code == 200  # another client is not blocked


def test_wrong_codes_are_throttled_globally(client, settings, filed):
    settings.INTAKE_CODE_FAILURES_GLOBAL = 2
    for address in ("198.51.100.1", "198.51.100.2"):
        page = client.get(reverse("intake:come-back"), REMOTE_ADDR=address)
        token = challenge_of(page)
        client.post(
            reverse("intake:come-back"),
            {"code": "2" * 30, "challenge": token, "counter": solve(token)},
            REMOTE_ADDR=address,
        )
    assert client.get(reverse("intake:come-back"), REMOTE_ADDR="198.51.100.3").status_code == 429


def test_a_report_without_the_work_or_the_answer_is_refused(client, receiving, regimes, photo):
    data = _report_data(client, regimes, receiving, photo, counter="")
    response = client.post(reverse("intake:new"), data)
    assert response.status_code == 400
    assert not Intake.objects.exists()


def test_a_challenge_is_good_once(client, receiving, regimes, photo):
    data = _report_data(client, regimes, receiving, photo)
    assert client.post(reverse("intake:new"), data).status_code == 200
    data["files"] = SimpleUploadedFile("again.jpg", photo, content_type="image/jpeg")
    assert client.post(reverse("intake:new"), data).status_code == 400
    assert Intake.objects.count() == 1


def test_without_javascript_the_portals_question_is_enough(client, receiving, regimes, photo):
    page = client.get(reverse("intake:new")).content.decode()
    a, b = (int(n) for n in re.search(r"how much is (\d+) plus (\d+)", page).groups())
    token = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    data = _report_data(client, regimes, receiving, photo, counter="", answer=str(a + b))
    data["challenge"] = token
    assert client.post(reverse("intake:new"), data).status_code == 200
    assert Intake.objects.count() == 1


def test_another_organisation_cannot_see_or_adopt_the_report(client, filed, mallory, regimes):
    intake, _code = filed
    client.force_login(mallory)
    assert intake.reference not in client.get(reverse("intake:queue")).content.decode()
    assert client.get(reverse("intake:queue-detail", args=[intake.reference])).status_code == 404
    file_pk = intake.files.get().pk
    url = reverse("intake:queue-file", args=[intake.reference, file_pk])
    assert client.get(url).status_code == 404
    response = client.post(
        reverse("intake:queue-adopt", args=[intake.reference]),
        {"title": "Mine now", "target_regimes": [regimes[0].pk]},
    )
    assert response.status_code == 404
    assert not Dossier.objects.exists()


def test_a_member_adopts_the_report_into_a_draft_dossier(client, filed, alice, regimes):
    intake, _code = filed
    client.force_login(alice)
    detail = client.get(reverse("intake:queue-detail", args=[intake.reference]))
    assert "Sok Dara" in detail.content.decode()
    response = client.post(
        reverse("intake:queue-adopt", args=[intake.reference]),
        {"title": "Market beating", "target_regimes": [r.pk for r in regimes]},
    )
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and response.url == dossier.get_absolute_url()
    assert dossier.evidence.get().sha256 == intake.files.get().sha256
    assert AuditEvent.objects.filter(action="intake.adopted", actor=alice).exists()


def test_the_reporter_is_warned_before_the_purge(client, filed, settings):
    intake, code = filed
    settings.INTAKE_PURGE_WARNING_DAYS = 10_000
    page = client.get(reverse("intake:come-back"))
    token = challenge_of(page)
    client.post(
        reverse("intake:come-back"), {"code": code, "challenge": token, "counter": solve(token)}
    )
    case = client.get(reverse("intake:case"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "it will be deleted on" in case


def test_the_intake_speaks_khmer_and_the_rest_of_the_portal_does_not(client, db):
    page = client.get(reverse("intake:start"), HTTP_ACCEPT_LANGUAGE="km")
    assert '<html lang="km">' in page.content.decode()
    assert 'value="km"' in page.content.decode()  # offered on the intake's switcher
    client.post(reverse("intake:language"), {"language": "km", "next": "/report/"})
    assert '<html lang="km">' in client.get(reverse("intake:start")).content.decode()
    login = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in login and 'value="km"' not in login


def test_an_organisation_admin_opts_in_and_a_member_cannot(client, bob, alice, org_a):
    url = reverse("intake:listing", args=[org_a.slug])
    client.force_login(alice)
    assert client.get(url).status_code == 404
    client.force_login(bob)
    response = client.post(
        url, {"accepts_intakes": "on", "intake_description": "We answer in Khmer."}
    )
    assert response.status_code == 302
    org_a.refresh_from_db()
    assert org_a.accepts_intakes and org_a.intake_description == "We answer in Khmer."
    form = client.get(reverse("intake:new")).content.decode()
    assert "We answer in Khmer." in form
    assert AuditEvent.objects.filter(action="organisation.intake_listing_changed").exists()


def test_the_queue_costs_the_same_queries_for_one_report_or_many(
    client, filed, alice, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intake import services

    client.force_login(alice)
    client.get(reverse("intake:queue"))  # warm the session and content types
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("intake:queue"))
    for _n in range(4):
        services.file_intake(
            fields={"account": "x", "reporter_role": "witness"},
            organisation=filed[0].organisation,
            consents=[],
            files=[],
        )
    # 1 session (none when sessions are read from Redis), 2 user, 3 groups (roles), 4 reports
    # with organisation and category, 5 organisations this user administers, 6 the device
    assert len(one) <= 6
    with django_assert_num_queries(len(one)):
        client.get(reverse("intake:queue"))


def test_an_intake_page_leaves_the_threads_language_as_it_found_it(client):
    from django.utils import translation

    response = client.get(reverse("intake:start"), HTTP_ACCEPT_LANGUAGE="km")
    assert response["Content-Language"] == "km"
    assert 'lang="km"' in response.text
    # The portal's own language choice (LocaleMiddleware's) is back: the next code in this
    # thread does not speak Khmer, which the rest of the portal does not even offer.
    assert translation.get_language() != "km"
