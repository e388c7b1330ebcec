"""
Synthetic statistics for screenshots and demos: organisations, submitted dossiers and packages
with governments' answers, spread over regimes, categories, countries and years. Invented
numbers only; development databases only (the command that calls this refuses otherwise).
"""

import random
from datetime import UTC, date, datetime, timedelta

from portal.models import Membership, Organisation, User
from reviews.models import BriefVersion, Delivery, Package
from submissions.models import Dossier, Incident, Regime, ViolationCategory

REGIMES = {"US-GLOMAG": 46, "GB-HR": 38, "EU-HR": 27, "CA-JVCFOA": 16, "AU-HUMAN": 9, "GB-AC": 6}
CATEGORIES = ["torture", "killing", "detention", "disappearance", "misappropriation", "bribery"]
COUNTRIES = ["RU", "CN", "IR", "BY", "MM", "NI", "SA", "VE", "KH", "ER"]
YEARS = [2023, 2024, 2025, 2026]
DECISION = {"US-GLOMAG": (0.55, 120), "GB-HR": (0.45, 200), "EU-HR": (0.3, 260),
            "CA-JVCFOA": (0.35, 180), "AU-HUMAN": (0.2, 300), "GB-AC": (0.4, 150)}  # fmt: skip


def seed(until: date) -> int:
    """Create the demo rows once (idempotent by organisation name); return the dossier count."""
    rng = random.Random(11)  # noqa: S311 - invented demo numbers  # nosec B311
    organisations = []
    for name, listed in [("Demo Rights Documentation Network", True),
                         ("Anonymous Partner 1", False), ("Anonymous Partner 2", False),
                         ("Open Anti-Corruption Lab", True)]:  # fmt: skip
        slug = name.lower().replace(" ", "-")
        organisation, _created = Organisation.objects.get_or_create(
            name=name, defaults={"slug": slug, "listed_publicly": listed}
        )
        organisations.append(organisation)
    if Dossier.objects.filter(organisation__in=organisations).exists():
        return Dossier.objects.filter(organisation__in=organisations).count()
    author, _created = User.objects.get_or_create(email="statistics-demo@demo.example")
    for organisation in organisations:
        Membership.objects.get_or_create(user=author, organisation=organisation)
    regimes = {r.key: r for r in Regime.objects.filter(key__in=REGIMES)}
    categories = {c.code: c for c in ViolationCategory.objects.filter(code__in=CATEGORIES)}
    count = 0
    for key, total in REGIMES.items():
        chance, typical_days = DECISION[key]
        for index in range(total):
            year = rng.choice(YEARS)
            submitted = datetime(year, rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC)
            if submitted.date() > until:
                continue
            dossier = Dossier.objects.create(
                organisation=rng.choice(organisations), created_by=author,
                title=f"Demo dossier {key} {index}", status="submitted",
            )  # fmt: skip
            Dossier.objects.filter(pk=dossier.pk).update(submitted_at=submitted)
            dossier.target_regimes.set([regimes[key]])
            code = rng.choice(CATEGORIES[-2:] if key == "GB-AC" else CATEGORIES[:4])
            Incident.objects.create(
                dossier=dossier, title="Demo incident", category=categories[code],
                start_date=str(year - 1), country=rng.choice(COUNTRIES), narrative="Demo.",
            )  # fmt: skip
            count += 1
            delivered_on = submitted.date() + timedelta(days=rng.randint(60, 200))
            if rng.random() > 0.7 or delivered_on > until:
                continue
            decided_on = delivered_on + timedelta(days=int(rng.gauss(typical_days, 40)))
            response = ""
            if decided_on <= until and rng.random() < 0.8:
                response = "designated" if rng.random() < chance else "declined"
            _package(author, regimes[key], dossier, delivered_on, response, decided_on)
    return count


def _package(author, regime, dossier, delivered_on, response, decided_on) -> None:
    package = Package.objects.create(
        regime=regime, recipient=regime.receiving_authority or "Sanctions unit",
        created_by=author, status="response_recorded" if response else "delivered",
        response=response, response_on=decided_on if response else None,
        designated_on=decided_on if response == "designated" else None,
    )  # fmt: skip
    package.dossiers.set([dossier])
    version = BriefVersion.objects.create(
        package=package, number=1, status="done", requested_by=author
    )
    Delivery.objects.create(
        package=package, version=version, delivered_on=delivered_on, recipient="Demo",
        channel="Secure email", delivered_by=author,
    )  # fmt: skip
