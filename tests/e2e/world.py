"""
The people of the end-to-end journeys, created inside the portal under test (a separate
process): `python manage.py shell -c "from tests.e2e.world import build; build()"`.

Prints one JSON line with the accounts and the authenticator keys the browser tests type
codes from. Runs against a throw-away database only (the e2e fixture makes one).
"""

import json

from django.core.management import call_command

from portal import services
from portal.management.commands.seed_demo import DEMO_PASSWORD
from portal.models import AuthenticatorDevice, User

# Fixed authenticator keys (hex): test-only, throw-away database. Every NGO member has one, as
# members open witness identities (portal.twofactor.can_open_sources).
KEYS = {
    "member@demo.example": "6d656d6265726d656d6265726d656d6265726d65",
    "member@second.example": "7365636f6e647365636f6e647365636f6e647365",
    "reviewer@demo.example": "3132333435363738393031323334353637383930",
    "reviewer2@demo.example": "4142434445464748494a4b4c4d4e4f5051525354",
    "lead@demo.example": "6162636465666768696a6b6c6d6e6f7071727374",
    "orgadmin@demo.example": "7a7978777675747372717069686766656463625a",
}


def build() -> None:
    call_command("seed_demo", force=True, verbosity=0)
    second = User.objects.filter(email="reviewer2@demo.example").first()
    if second is None:
        second = User.objects.create_user(
            "reviewer2@demo.example", DEMO_PASSWORD, full_name="Rafael Second-Reviewer"
        )
        services.grant_review_role(second, by=None)
    for email, key in KEYS.items():
        user = User.objects.get(email=email)
        AuthenticatorDevice.objects.filter(user=user).delete()
        AuthenticatorDevice.objects.create(
            user=user, name="Authenticator app", key=key, confirmed=True
        )
    print(json.dumps({"password": DEMO_PASSWORD, "keys": KEYS}))  # noqa: T201
