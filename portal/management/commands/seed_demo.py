from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intake.demo import seed_intake_demo
from portal import services
from portal.models import Membership, Organisation, User
from submissions.demo import seed_demo_dossiers

# Published on purpose: demo accounts only, and the command refuses outside development.
DEMO_PASSWORD = "demo-portal-password"  # noqa: S105  # nosec B105

ORGANISATIONS = [
    {"slug": "demo-ngo", "name": "Demo Human Rights Documentation Centre", "country": "GB"},
    {"slug": "second-ngo", "name": "Second Anti-Corruption Network", "country": "CA"},
]

# email, full name, organisation slug and role (or None), review role (None, "reviewer", "lead")
USERS = [
    ("member@demo.example", "Alice Member", "demo-ngo", Membership.Role.MEMBER, None),
    ("orgadmin@demo.example", "Bob Orgadmin", "demo-ngo", Membership.Role.ADMIN, None),
    ("member@second.example", "Mallory Other", "second-ngo", Membership.Role.MEMBER, None),
    ("reviewer@demo.example", "Rita Reviewer", None, None, "reviewer"),
    ("lead@demo.example", "Lena Lead", None, None, "lead"),
    ("admin@demo.example", "Ada Admin", None, None, "superuser"),
]


class Command(BaseCommand):
    help = (
        "Create the demo organisations and one user per role (password "
        f"'{DEMO_PASSWORD}'). Idempotent. Refuses outside development unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though DJANGO_DEBUG is off (never on a real deployment).",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Demo accounts have a published password: seed_demo runs only with "
                "DJANGO_DEBUG=true (or --force on a throw-away machine)."
            )
        organisations = {}
        for fields in ORGANISATIONS:
            organisation = Organisation.objects.filter(slug=fields["slug"]).first()
            if organisation is None:
                organisation = services.create_organisation(by=None, **fields)
            organisations[fields["slug"]] = organisation

        for email, full_name, org_slug, org_role, review_role in USERS:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
                self.stdout.write(f"Created {email}")
            if (
                org_slug
                and not Membership.objects.filter(
                    user=user, organisation=organisations[org_slug], role=org_role
                ).exists()
            ):
                services.add_member(organisations[org_slug], user, role=org_role, by=None)
            if review_role == "superuser" and not user.is_superuser:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            elif review_role == "reviewer" and not user.is_reviewer:
                services.grant_review_role(user, by=None)
            elif review_role == "lead" and not user.is_lead_reviewer:
                services.grant_review_role(user, lead=True, by=None)

        seed_intake_demo()  # the demo NGO takes reports through /report/
        # The submitted demo dossier has no reviewer: the demo walk starts with a reviewer
        # taking it from triage (README, "Reviewing in the review site").
        seed_demo_dossiers()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready; password: {DEMO_PASSWORD}"))
