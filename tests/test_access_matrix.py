"""
Who reaches what: every URL pattern of the portal, the review site and the downloads, for each
role. The patterns are enumerated from the URL configuration, so a new view without a rule here
fails the suite.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from intake import services as intake_services
from reviews.models import InformationRequest
from submissions import services
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
    "set_language": dict.fromkeys(ROLES, "refused"),  # POST only (the switcher's form)
    "login": PUBLIC,
    "logout": {**dict.fromkeys(ROLES, "refused"), "anonymous": "any"},  # POST only
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    "password_change": SIGNED_IN,
    "password_change_done": SIGNED_IN,
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
    "api:token-list": {**NGO_PAGE, "alice": "login", "bob": "login", "mallory": "login"},
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
