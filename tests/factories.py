"""factory_boy factories, one per model."""

import factory
from django.contrib.auth.hashers import make_password

from portal.models import Membership, Organisation, User

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


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory, membership=None)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.MEMBER
