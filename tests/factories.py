"""factory_boy factories, one per model."""

import factory
from django.contrib.auth.hashers import make_password

from portal.models import AuthenticatorDevice, Membership, Organisation, User
from submissions import services
from submissions.models import Dossier, Incident, Regime, Source, Subject, ViolationCategory

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


def answer_all_blocking(dossier, by):
    """Answer every blocking item of every target regime as met (a dossier ready to submit)."""
    for regime in dossier.target_regimes.all():
        items = regime.checklist.filter(level="blocking").select_related("criterion")
        services.answer_checklist(
            dossier,
            regime,
            by=by,
            answers=[
                {"criterion": item.criterion, "status": "met", "explanation": "See exhibits."}
                for item in items
            ],
        )
