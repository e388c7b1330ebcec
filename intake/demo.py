"""Demo data for the intake: the demo NGO takes reports from victims and witnesses."""

from portal.models import Organisation

DEMO_DESCRIPTION = (
    "A documentation centre that has helped survivors of abuse by security forces in South-East "
    "Asia since 2009. We answer in English, Khmer and Japanese, usually within a week."
)


def seed_intake_demo() -> None:
    Organisation.objects.filter(slug="demo-ngo", accepts_intakes=False).update(
        accepts_intakes=True, intake_description=DEMO_DESCRIPTION
    )
