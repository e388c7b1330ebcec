"""factory_boy factories, one per model."""

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from portal.models import AuthenticatorDevice, Membership, Organisation, User
from submissions import services
from submissions.models import (
    Consent,
    Dossier,
    Evidence,
    Incident,
    InvolvementRole,
    PositionHeld,
    Regime,
    RegimeCoverage,
    Source,
    Subject,
    ViolationCategory,
)

PASSWORD = "correct-horse-battery-staple"
_PASSWORD_HASH = make_password(PASSWORD)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    country = "GB"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    password = _PASSWORD_HASH  # hashed once: hashing per user would slow the suite

    membership = factory.RelatedFactory(
        "tests.factories.MembershipFactory", factory_related_name="user"
    )

    class Params:
        no_organisation = factory.Trait(membership=None)

    @factory.post_generation
    def authenticator(self, create, extracted, **kwargs):
        """
        Members open witness identities, so they have an authenticator app (portal.twofactor)
        unless `authenticator=False`; `authenticator=True` gives anyone one. (Made in
        _after_postgeneration, once the membership exists.)
        """
        return extracted

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        wanted = (results or {}).get("authenticator")
        if not create or wanted is False:
            return
        if wanted or instance.memberships.exists():
            AuthenticatorDevice.objects.get_or_create(
                user=instance, confirmed=True, defaults={"name": "Authenticator app"}
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory, membership=None)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.MEMBER


# Submissions


class DossierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dossier
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    created_by = factory.LazyAttribute(
        lambda o: (
            o.organisation.memberships.first().user
            if o.organisation.memberships.exists()
            else UserFactory(membership__organisation=o.organisation)
        )
    )
    title = factory.Sequence(lambda n: f"Dossier {n}")
    summary = "Who did what to whom, when and where."

    @factory.post_generation
    def target_regimes(self, create, extracted, **kwargs):
        if create:
            self.target_regimes.set(extracted or [Regime.objects.get(key="GB-HR")])


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    dossier = factory.SubFactory(DossierFactory)
    name = "Ivan Petrov"
    name_original = "Иван Петров"
    birth_date = "1970-03"
    nationalities = ["RU"]


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    dossier = factory.SubFactory(DossierFactory)
    title = "Detention and torture of a journalist"
    category = factory.LazyFunction(lambda: ViolationCategory.objects.get(code="torture"))
    start_date = "2023-05"
    country = "RU"
    place = "Moscow"
    narrative = "The journalist was detained and tortured."
    victims_count = 1


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    dossier = factory.SubFactory(DossierFactory)
    pseudonym = factory.Sequence(lambda n: f"W-{n + 1}")
    kind = "witness"
    identity = "Maria Ivanova, born 1985, Kazan"
    contact = "+7 900 000 00 00"


def make_ready_to_submit(dossier, by):
    """
    Give a dossier what its target regimes' checklists need, and return it.

    The computed items close from data: a subject with an identifier and a post, an incident
    covered by every target with a role, a graded web exhibit with provenance and capture
    record linked to each incident, consent of every source. The blocking judgements are
    answered "met".
    """
    regimes = list(dossier.target_regimes.all())
    subject = dossier.subjects.first() or SubjectFactory(dossier=dossier)
    if not PositionHeld.objects.filter(subject__dossier=dossier).exists():
        PositionHeld.objects.create(subject=subject, title="Head of the city police")
    if not dossier.incidents.exists():
        shared = set(ViolationCategory.objects.values_list("pk", flat=True))
        for regime in regimes:
            shared &= set(
                RegimeCoverage.objects.filter(regime=regime).values_list("category_id", flat=True)
            )
        category = (
            ViolationCategory.objects.filter(pk__in=shared, code="torture").first()
            or ViolationCategory.objects.filter(pk__in=shared).first()
        )
        IncidentFactory(dossier=dossier, category=category)
    perpetrator = InvolvementRole.objects.get(code="perpetrator")
    for incident in dossier.incidents.all():
        if not incident.involvements.exists():
            incident.involvements.create(subject=subject, role=perpetrator)
    # Exhibits already filed are graded and their provenance given, as a submitter would.
    dossier.evidence.filter(reliability="").update(reliability="B")
    dossier.evidence.filter(credibility="").update(credibility="2")
    dossier.evidence.filter(provenance="").update(provenance="Received from the witness.")
    exhibit = Evidence.objects.create(
        dossier=dossier,
        kind=Evidence.Kind.LINK,
        url="https://news.example.org/report",
        captured_at=timezone.now(),
        archive_url="https://web.archive.org/web/2024/https://news.example.org/report",
        provenance="Captured by our researcher from the outlet's site.",
        reliability="B",
        credibility="2",
        uploaded_by=by,
    )
    exhibit.incidents.set(dossier.incidents.all())
    for source in dossier.sources.filter(consent_records__isnull=True):
        for regime in regimes:
            Consent.objects.get_or_create(
                source=source,
                regime=regime,
                defaults={"given_on": timezone.localdate(), "method": "signed form"},
            )
    answer_all_blocking(dossier, by)
    return dossier


def answer_all_blocking(dossier, by):
    """Answer every blocking judgement of every target regime as met (only the typed items)."""
    criteria = {}
    for regime in dossier.target_regimes.all():
        for item in regime.checklist.filter(level="blocking", criterion__rule="").select_related(
            "criterion"
        ):
            key = (item.criterion.pk, regime.pk if item.criterion.per_government else None)
            criteria[key] = (item.criterion, regime)
    services.answer_checklist_items(
        dossier,
        by=by,
        answers=[
            {
                "criterion": criterion,
                "regime": regime,
                "status": "met",
                "explanation": "See exhibits.",
            }
            for criterion, regime in criteria.values()
        ],
    )


def approve_without_review(dossier, by):
    """
    Mark a dossier approved for every government it was filed for, as a lead's decision
    would (Decision and one RegimeDecision per target), without walking the review.
    """
    from reviews.models import Decision, RegimeDecision

    Dossier.objects.filter(pk=dossier.pk).update(status=Dossier.Status.APPROVED)
    decision, _created = Decision.objects.update_or_create(
        dossier=dossier, defaults={"outcome": "approved", "reason": "Approved.", "decided_by": by}
    )
    for regime in dossier.target_regimes.all():
        RegimeDecision.objects.update_or_create(
            decision=decision, regime=regime, defaults={"outcome": "approved"}
        )
    dossier.refresh_from_db()
    return dossier
