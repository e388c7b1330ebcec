"""
Who reaches what: every URL pattern of the portal, the review site and the downloads, for each
role. The patterns are enumerated from the URL configuration, so a new view without a rule here
fails the suite.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from intake import services as intake_services
from reviews.models import Assignment, InformationRequest
from submissions import services
from submissions.models import Dossier, Evidence
from submissions.uploads import uploaded_from_bytes
from tests.conftest import PortalClient, with_authenticator
from tests.factories import (
    DossierFactory,
    IncidentFactory,
    SourceFactory,
    SubjectFactory,
    UserFactory,
)
from tests.submissions.test_evidence import PDF

ROLES = ["anonymous", "alice", "bob", "mallory", "rita", "lena", "superuser"]

# Outcomes: "ok" (the page, or a redirect inside the portal), "login" (sent to sign in),
# "hidden" (404, or 405 for a POST-only URL: existence never leaks), "refused" (403/404/405),
# "any" (reachable but its answer depends on the request, e.g. a form needing input).
PUBLIC = dict.fromkeys(ROLES, "ok")
NGO_PAGE = {
    "anonymous": "login", "alice": "ok", "bob": "ok", "mallory": "hidden",
    "rita": "hidden", "lena": "hidden", "superuser": "hidden",
}  # fmt: skip
SIGNED_IN = {"anonymous": "login", **dict.fromkeys(ROLES[1:], "ok")}
# POST-only pages: a GET is refused (405) even to those who may POST.
NGO_POST = {**NGO_PAGE, "alice": "refused", "bob": "refused"}
# Pages whose answer depends on the dossier's state (a draft has no receipt, no thumbnail).
NGO_STATEFUL = {**NGO_PAGE, "alice": "any", "bob": "any"}
ADMIN = {
    "anonymous": "login", "alice": "login", "bob": "login", "mallory": "login",
    "rita": "any", "lena": "any", "superuser": "any",
}  # fmt: skip

# The rule of each URL name; namespaces are prefixes ("admin:" covers the whole review site).
RULES = {
    "home": PUBLIC,
    "healthz": PUBLIC,
    # How a ministry checks a brief without an account: the keys ever used, the verifier.
    "brief-signing-keys": PUBLIC,
    "brief-signing-keys-json": PUBLIC,
    "brief-signing-certificate": PUBLIC,
    "brief-verifier": PUBLIC,
    "brief-verifier-requirements": PUBLIC,
    "set_language": dict.fromkeys(ROLES, "refused"),  # POST only (the switcher's form)
    "login": PUBLIC,
    "logout": {**dict.fromkeys(ROLES, "refused"), "anonymous": "any"},  # POST only
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    "password_change": SIGNED_IN,
    "password_change_done": SIGNED_IN,
    # Where sign-in leads without a `next`: the dossiers, the review site or home.
    "after-sign-in": SIGNED_IN,
    "two_factor_verify": SIGNED_IN,
    "two_factor_setup": SIGNED_IN,
    "two_factor_recovery_codes": {**SIGNED_IN, **dict.fromkeys(ROLES[1:], "refused")},
    "invitation-accept": {**PUBLIC, **dict.fromkeys(ROLES, "refused")},  # unknown token: 404
    "organisation": SIGNED_IN,
    "organisation-invite": {**NGO_PAGE, "alice": "refused", "bob": "refused"},  # POST only
    "organisation-member-remove": {**NGO_PAGE, "alice": "refused", "bob": "refused"},
    "organisation-invitation-revoke": {**NGO_PAGE, "alice": "refused", "bob": "refused"},
    "transparency:page": PUBLIC,
    # Public, but a 404 until the first snapshot exists (none in this world).
    "transparency:archive": dict.fromkeys(ROLES, "any"),
    "transparency:download": dict.fromkeys(ROLES, "any"),
    "transparency:impact": SIGNED_IN,
    "transparency:organisation-listing": {**NGO_PAGE, "alice": "refused", "bob": "refused"},
    "submissions:dossier-list": SIGNED_IN,
    "submissions:dossier-create": {**NGO_PAGE, "mallory": "ok"},
    "submissions:dossier-submit": NGO_POST,
    "submissions:dossier-withdraw": NGO_POST,
    "submissions:request-reply": NGO_POST,
    "submissions:subject-remove": NGO_POST,
    "submissions:incident-remove": NGO_POST,
    "submissions:source-remove": NGO_POST,
    "submissions:evidence-upload": NGO_POST,
    "submissions:evidence-link": NGO_POST,
    "submissions:evidence-remove": NGO_POST,
    "submissions:dossier-receipt": NGO_STATEFUL,
    "submissions:dossier-receipt-pdf": NGO_STATEFUL,
    "submissions:evidence-thumbnail": NGO_STATEFUL,
    "submissions:": NGO_PAGE,
    # API (issue #12): tokens only, so a session gets 401 on every /api/v1/ operation
    # (tests/api/test_access.py checks each operation with tokens).
    # Members have a second factor (they open witness identities), which the token page needs.
    "api:token-list": {**NGO_PAGE, "mallory": "ok"},  # her own tokens
    "api:token-revoke": {**dict.fromkeys(ROLES, "refused"), "anonymous": "login"},  # POST only
    "api:docs": SIGNED_IN,
    "api:schema": {**SIGNED_IN, "anonymous": "refused"},  # a token or a signed-in session
    "api:": dict.fromkeys(ROLES, "refused"),
    # The anonymous intake (issue #24): public pages, POST-only actions of the reporter's visit,
    # and the receiving organisation's queue (the world's report is NGO A's).
    "intake:start": PUBLIC,
    "intake:new": PUBLIC,
    "intake:come-back": PUBLIC,
    "intake:case": PUBLIC,  # without a visit opened by the code: sent to enter it
    "intake:case-reply": dict.fromkeys(ROLES, "refused"),
    "intake:case-files": dict.fromkeys(ROLES, "refused"),
    "intake:case-remove-details": dict.fromkeys(ROLES, "refused"),
    "intake:leave": dict.fromkeys(ROLES, "refused"),
    "intake:language": dict.fromkeys(ROLES, "refused"),
    "intake:queue": SIGNED_IN,
    "intake:listing": {**NGO_PAGE, "alice": "refused"},  # organisation admins only
    "intake:queue-detail": NGO_PAGE,
    "intake:queue-file": NGO_PAGE,
    "intake:queue-reply": NGO_POST,
    "intake:queue-adopt": NGO_POST,
    "intake:queue-add-files": NGO_POST,
    "intake:queue-route": NGO_POST,
    "admin:login": PUBLIC,
    "admin:logout": dict.fromkeys(ROLES, "any"),
    "admin:": ADMIN,
}


def patterns(resolver=None, prefix="", namespace=""):
    """Yield (full name, route) for every URL pattern, resolved through includes."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from patterns(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern)


def rule_for(name: str):
    if name in RULES:
        return RULES[name]
    for key, rule in RULES.items():
        if key.endswith(":") and name.startswith(key):
            return rule
    return None


def test_every_url_pattern_has_an_access_rule():
    missing = sorted({name for name, _route in patterns() if rule_for(name) is None})
    assert missing == [], f"URL patterns without a rule in RULES: {missing}"


@pytest.fixture
def world(alice, bob, mallory, rita, lena, org_a):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    evidence = services.attach_evidence_file(
        dossier, by=alice, upload=uploaded_from_bytes(PDF, "a.pdf"), details={}
    )
    objects = {
        "subjects": SubjectFactory(dossier=dossier),
        "incidents": IncidentFactory(dossier=dossier),
        "sources": SourceFactory(dossier=dossier),
        "evidence": evidence,
        "requests": InformationRequest.objects.create(dossier=dossier, question="?", asked_by=lena),
    }
    org_a.accepts_intakes = True
    org_a.save(update_fields=["accepts_intakes"])
    objects["intake"], _code = intake_services.file_intake(
        fields={"account": "It happened.", "reporter_role": "witness"},
        organisation=org_a,
        consents=[],
        files=[uploaded_from_bytes(PDF, "b.pdf")],
    )
    superuser = with_authenticator(
        UserFactory(
            email="root@example.org", is_staff=True, is_superuser=True, no_organisation=True
        )
    )
    users = {"alice": alice, "bob": bob, "mallory": mallory, "rita": rita, "lena": lena,
             "superuser": superuser}  # fmt: skip
    return dossier, objects, org_a, users


def concrete(name: str, route: str, dossier, objects, organisation) -> str | None:
    """Fill a route's parameters with objects of NGO A; None if it cannot be filled here."""
    kwargs = {}
    for part in route.split("<")[1:]:
        converter_and_name = part.split(">")[0]
        key = converter_and_name.split(":")[-1]
        if key == "reference" and name.startswith("intake:"):
            kwargs[key] = objects["intake"].reference
        elif key == "reference":
            kwargs[key] = dossier.reference
        elif key == "regime":
            kwargs[key] = "GB-HR"
        elif key == "slug":
            kwargs[key] = organisation.slug
        elif key in {"uidb64", "token"}:
            kwargs[key] = "x" * 20
        elif key == "pk" and name.startswith("submissions:"):
            segments = route.split("/")
            kwargs[key] = objects[segments[segments.index("<int:pk>") - 1]].pk
        elif key == "pk" and name.startswith("intake:"):
            kwargs[key] = objects["intake"].files.get().pk
        elif key == "pk":
            kwargs[key] = objects["evidence"].pk
        else:
            return None  # admin's own generic patterns (object ids, app labels)
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:  # noqa: BLE001 - admin patterns with regex parameters
        return None


def outcome(response) -> str:
    if response.status_code in (301, 302):
        location = response["Location"]
        if "/login/" in location or "/two-factor/" in location:
            return "login"
        return "ok"
    if response.status_code in (401, 403, 404, 405, 410):
        return "refused"
    if response.status_code < 400:
        return "ok"
    return f"error {response.status_code}"


def test_each_role_reaches_exactly_what_its_rule_allows(world):
    dossier, objects, organisation, users = world
    problems = []
    checked = 0
    clients = {role: PortalClient() for role in ROLES}
    for role, client in clients.items():
        if role != "anonymous":
            client.force_login(users[role])
    for name, route in patterns():
        url = concrete(name, route, dossier, objects, organisation)
        if url is None:
            continue
        rule = rule_for(name)
        for role, client in clients.items():
            response = client.get(url)
            got = outcome(response)
            if "Content-Security-Policy" not in response:
                problems.append((name, role, "no Content-Security-Policy header"))
            want = rule[role]
            checked += 1
            if got.startswith("error"):
                problems.append((name, role, got))
            elif want == "any":
                continue
            elif want in {"hidden", "refused"} and got != "refused":
                problems.append((name, role, f"expected refusal, got {got}"))
            elif want in {"ok", "login"} and got != want:
                problems.append((name, role, f"expected {want}, got {got}"))
    assert problems == [], "\n".join(f"{n} as {r}: {p}" for n, r, p in problems)
    assert checked > 200


# The dossier rule in every state: who sees a dossier, and through which way in.

# role: (sees it through the organisation, sees it through the review role), for a dossier
# past draft; nobody sees a draft through the review role.
WAYS_IN = {
    "alice": (True, False),  # member
    "bob": (True, False),  # organisation admin
    "mallory": (False, False),  # another NGO
    "rita": (False, True),  # reviewer, assigned
    "rex": (False, False),  # reviewer, assigned, then recused
    "ravi": (False, False),  # reviewer, not assigned
    "conrad": (True, False),  # reviewer and member of NGO A: a conflict of interest
    "lena": (False, True),  # lead reviewer
    "lara": (True, False),  # lead reviewer and member of NGO A: a conflict of interest
    "superuser": (False, True),
}


@pytest.fixture
def people(alice, bob, mallory, rita, lena, org_a):
    from django.utils import timezone

    from portal import services as portal_services

    def reviewer(email, *, lead=False, organisation=None):
        if organisation is None:
            user = UserFactory(email=email, no_organisation=True)
        else:
            user = UserFactory(email=email, membership__organisation=organisation)
        return with_authenticator(portal_services.grant_review_role(user, lead=lead, by=None))

    superuser = with_authenticator(
        UserFactory(
            email="root@example.org", is_staff=True, is_superuser=True, no_organisation=True
        )
    )
    users = {
        "alice": alice, "bob": bob, "mallory": mallory, "rita": rita, "lena": lena,
        "rex": reviewer("rex@review.example"), "ravi": reviewer("ravi@review.example"),
        "conrad": reviewer("conrad@org-a.example", organisation=org_a),
        "lara": reviewer("lara@org-a.example", lead=True, organisation=org_a),
        "superuser": superuser,
    }  # fmt: skip

    def dossier_in(status):
        dossier = DossierFactory(organisation=org_a, created_by=alice)
        evidence = services.attach_evidence_file(
            dossier, by=alice, upload=uploaded_from_bytes(PDF, "a.pdf"), details={}
        )
        Dossier.objects.filter(pk=dossier.pk).update(
            status=status, submitted_at=None if status == "draft" else timezone.now()
        )
        dossier.refresh_from_db()
        # Assignments as rows: the services refuse some of them (a draft, a conflict), and the
        # rule must hold even for rows made before a reviewer joined the organisation.
        for name in ("rita", "rex", "conrad", "lara"):
            Assignment.objects.create(dossier=dossier, reviewer=users[name], assigned_by=lena)
        Assignment.objects.filter(dossier=dossier, reviewer=users["rex"]).update(
            recused_at=timezone.now(), recusal_reason="Knows the subject."
        )
        return dossier, evidence

    return users, dossier_in


@pytest.mark.parametrize("status", Dossier.Status.values)
def test_the_dossier_rule_in_every_state_for_every_role(people, status):
    from reviews.querysets import dossiers_for_review

    users, dossier_in = people
    dossier, evidence = dossier_in(status)
    problems = []
    for role, (as_member, as_reviewer) in WAYS_IN.items():
        user = users[role]
        as_reviewer = as_reviewer and status != "draft"
        want = {
            None: as_member or as_reviewer,
            "organisation": as_member,
            "review": as_reviewer,
        }
        for through, expected in want.items():
            got = Dossier.objects.visible_to(user, through=through).filter(pk=dossier.pk).exists()
            if got != expected:
                problems.append(f"{role} through {through}: sees {got}, should {expected}")
            got = Evidence.objects.visible_to(user, through=through).filter(pk=evidence.pk)
            if got.exists() != expected:
                problems.append(f"{role} exhibit through {through}: should {expected}")
        if dossiers_for_review(user).filter(pk=dossier.pk).exists() != as_reviewer:
            problems.append(f"{role}: dossiers_for_review disagrees")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("status", Dossier.Status.values)
def test_every_page_and_download_answers_by_the_rule_in_every_state(people, status):
    """NGO pages: members only; review site dossier page and download: the review side."""
    users, dossier_in = people
    dossier, evidence = dossier_in(status)
    ngo_urls = []
    for name, route in patterns():
        if name.startswith("submissions:") and "<str:reference>" in route:
            objects = {"evidence": evidence, "subjects": evidence, "incidents": evidence,
                       "sources": evidence, "requests": evidence}  # fmt: skip
            url = concrete(name, route, dossier, objects, dossier.organisation)
            if url is not None:
                ngo_urls.append(url)
    review_urls = [
        reverse("admin:submissions_dossier_change", args=[dossier.pk]),
        reverse("admin:submissions_dossier_evidence_download", args=[dossier.pk, evidence.pk]),
    ]
    assert len(ngo_urls) > 15
    problems = []
    for role, (as_member, as_reviewer) in WAYS_IN.items():
        client = PortalClient()
        client.force_login(users[role])
        as_reviewer = as_reviewer and status != "draft"
        for url in ngo_urls:
            got = outcome(client.get(url))
            if got.startswith("error"):
                problems.append(f"{role} {url}: {got}")
            elif not as_member and got != "refused":
                problems.append(f"{role} {url}: {got}, should be refused")
        if as_member:
            got = outcome(client.get(dossier.get_absolute_url()))
            if got != "ok":
                problems.append(f"{role} dossier page: {got}")
        for url in review_urls:
            response = client.get(url)
            reached = response.status_code == 200
            if reached != as_reviewer:
                problems.append(f"{role} {url}: {response.status_code}")
    assert problems == [], "\n".join(problems)


def test_a_recused_reviewer_reaches_nothing_of_the_dossier(client, alice, lena, rita, org_a):
    """Recusing through the service closes every NGO page, download, and the review site."""
    from reviews import services as review_services
    from tests.factories import make_ready_to_submit

    dossier = DossierFactory(organisation=org_a, created_by=alice)
    evidence = services.attach_evidence_file(
        dossier, by=alice, upload=uploaded_from_bytes(PDF, "a.pdf"), details={}
    )
    make_ready_to_submit(dossier, alice)
    services.submit_dossier(dossier, by=alice)
    review_services.assign_reviewer(dossier, rita, by=lena)
    review_services.start_review(dossier, by=rita)
    client.force_login(rita)
    download = reverse(
        "admin:submissions_dossier_evidence_download", args=[dossier.pk, evidence.pk]
    )
    assert client.get(download).status_code == 200  # assigned: the review site's download
    review_services.recuse(dossier, by=rita, reason="I know the subject's family.")

    urls = [
        dossier.get_absolute_url(),
        reverse("submissions:dossier-receipt", args=[dossier.reference]),
        reverse("submissions:dossier-receipt-pdf", args=[dossier.reference]),
        reverse("submissions:evidence-download", args=[dossier.reference, evidence.pk]),
        reverse("admin:submissions_dossier_change", args=[dossier.pk]),
        download,
    ]
    for url in urls:
        assert client.get(url).status_code in (302, 404), url
    assert not Dossier.objects.visible_to(rita).exists()
    with pytest.raises(PermissionDenied):
        services.record_evidence_download(evidence, by=rita)
