"""
Reads: who is designated where (through confirmed matches only), the gap matrix of a person,
the persons "designated by one of these regimes but not by that one", and what an NGO sees of
its subjects' designations since it submitted.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet

from reviews.models import Package, Person
from submissions.models import Dossier, Regime, Subject

from .models import Designation, ImportRun, ScreeningMatch

CONFIRMED = ScreeningMatch.Status.CONFIRMED
# The shared cache's version of what designated_since_submission() reads (submissions.dashboard):
# moved by every import and every save of a screening match or a designation.
DESIGNATIONS = "designations"
DESIGNATED_SINCE_SECONDS = 5 * 60
DELIVERED = (Package.Status.DELIVERED, Package.Status.RESPONSE_RECORDED)
PREPARING = (Package.Status.DRAFT, Package.Status.READY, Package.Status.RENDERED)


def designations_of(person_ids: list[int]) -> dict[int, list[Designation]]:
    """{person id: designations of the parties confirmed as that person} (two queries)."""
    rows = (
        ScreeningMatch.objects.filter(status=CONFIRMED)
        .filter(Q(person_id__in=person_ids) | Q(subject__person_link__person_id__in=person_ids))
        .values_list("party_id", "person_id", "subject__person_link__person_id")
    )
    wanted = set(person_ids)
    persons_of: dict[int, set[int]] = defaultdict(set)
    for party_id, person_id, linked_person_id in rows:
        persons_of[party_id] |= {pk for pk in (person_id, linked_person_id) if pk in wanted}
    if not persons_of:
        return {}
    found: dict[int, list[Designation]] = defaultdict(list)
    for designation in (
        Designation.objects.filter(party_id__in=list(persons_of))
        .select_related("regime", "party")
        .order_by("listed_on", "pk")
    ):
        for person_id in sorted(persons_of[designation.party_id]):
            found[person_id].append(designation)
    return found


def split_by_government(designations, regime: Regime) -> tuple[list, list]:
    """
    The active listings among `designations`, as (by `regime`'s own government, by other
    governments). A listing by the government a package is for is never one of the "other
    governments" that it asks to follow; it means the package may not be needed.
    """
    own, others = [], []
    for designation in designations:
        if designation.is_active:
            (own if designation.by_government_of(regime) else others).append(designation)
    return own, others


def designated_by(regimes, *, person=None) -> Exists:
    """Whether the person (OuterRef "pk") has an active designation under one of `regimes`."""
    person = person if person is not None else OuterRef("pk")
    return Exists(
        Designation.objects.filter(
            Q(party__matches__person=person)
            | Q(party__matches__subject__person_link__person=person),
            party__matches__status=CONFIRMED,
            delisted_on__isnull=True,
            regime__in=regimes,
        )
    )


def gap_persons(user, *, have, missing: Regime) -> QuerySet[Person]:
    """Persons designated under at least one of `have` but not (yet) under `missing`."""
    return (
        Person.objects.visible_to(user)
        .filter(designated_by(have))
        .exclude(designated_by([missing]))
        .order_by("name", "pk")
    )


def packages_of(person_ids: list[int], *, user, regime=None) -> dict[int, list[Package]]:
    """
    {person id: packages `user` may see naming the person, with their first delivery date}
    (one query; Package.objects.visible_to).
    """
    rows = (
        Package.objects.visible_to(user)
        .filter(persons__in=person_ids)
        .annotate(person_id=F("persons"), delivered_on=Min("deliveries__delivered_on"))
        .select_related("regime")
        .order_by("created_at")
    )
    if regime is not None:
        rows = rows.filter(regime=regime)
    found: dict[int, list[Package]] = defaultdict(list)
    for package in rows:
        found[package.person_id].append(package)
    return found


@dataclass
class GapRow:
    regime: Regime | None
    program_key: str
    designations: list = field(default_factory=list)
    packages: list = field(default_factory=list)

    @property
    def active(self) -> list:
        return [d for d in self.designations if d.is_active]

    @property
    def delisted(self) -> list:
        return [d for d in self.designations if not d.is_active]

    @property
    def delivered(self) -> list:
        return [p for p in self.packages if p.status in DELIVERED]

    @property
    def preparing(self) -> list:
        return [p for p in self.packages if p.status in PREPARING]

    @property
    def state(self) -> str:
        if self.active:
            return "designated"
        if self.delivered:
            return "asked"
        if self.preparing:
            return "preparing"
        return "nothing"


def gap_matrix(person: Person, *, user) -> list[GapRow]:
    """One row per regime (and per program key no regime knows) for one person."""
    regimes = list(Regime.objects.order_by("position", "key"))
    rows = {r.pk: GapRow(regime=r, program_key=r.opensanctions_key or r.key) for r in regimes}
    unknown: dict[str, GapRow] = {}
    for designation in designations_of([person.pk]).get(person.pk, []):
        if designation.regime_id in rows:
            rows[designation.regime_id].designations.append(designation)
        else:
            key = designation.program_key
            unknown.setdefault(key, GapRow(regime=None, program_key=key))
            unknown[key].designations.append(designation)
    if user.is_lead_reviewer:  # packages are the lead reviewers' work (reviews.package_admin)
        for package in packages_of([person.pk], user=user).get(person.pk, []):
            rows[package.regime_id].packages.append(package)
    return [*rows.values(), *sorted(unknown.values(), key=lambda r: r.program_key)]


def appeared_since_an_import(designations: QuerySet[Designation]) -> QuerySet[Designation]:
    """
    Annotate `appeared_since_an_import`: the listing was first seen in an import of its list
    that is not the list's first one, so it was published after that earlier import.
    """
    earlier = ImportRun.objects.filter(
        source=OuterRef("source"),
        status=ImportRun.Status.DONE,
        started_at__lt=OuterRef("listed_in_run__started_at"),
    )
    return designations.annotate(appeared_since_an_import=Exists(earlier))


def _listed_since(designation: Designation, submitted_at, submitted_on) -> bool:
    if designation.listing_date is not None:
        return designation.listing_date >= submitted_on
    return designation.appeared_since_an_import and designation.first_seen_at >= submitted_at


@dataclass
class DesignatedSince:
    subject: Subject
    designations: list


def designated_since_submission(user) -> list[DesignatedSince]:
    """
    For the subjects of the submitted dossiers of `user`'s organisations (the NGO dashboard):
    the active designations that took effect on or after
    the dossier's submission, through confirmed matches of the subject or of the canonical
    person it is linked to. One query when there are none; three when there are.
    """
    through_subject = Q(party__matches__subject=OuterRef("pk"))
    through_person = Q(party__matches__person__subject_links__subject=OuterRef("pk"))
    # A listing without a published date counts only if an earlier import of its list did not
    # hold it (it appeared since) and it was first seen after the submission; its date stays
    # "unknown" on the page, never the import's.
    since = Q(listed_on__gte=OuterRef("dossier__submitted_at__date")) | Q(
        listed_on__isnull=True,
        first_seen_at__gte=OuterRef("dossier__submitted_at"),
        appeared_since_an_import=True,
    )
    listed = (
        appeared_since_an_import(Designation.objects.all())
        .filter(
            through_subject | through_person,
            party__matches__status=CONFIRMED,
            delisted_on__isnull=True,
        )
        .filter(since)
    )
    from portal.models import Membership

    memberships = Membership.objects.filter(user=user, organisation=OuterRef("organisation"))
    dossiers = (
        Dossier.objects.visible_to(user, through="organisation")
        .filter(Exists(memberships), submitted_at__isnull=False)
        .values("pk")
    )
    subjects = list(
        Subject.objects.filter(dossier__in=dossiers)
        .filter(Exists(listed))
        .select_related("dossier", "person_link")
        .order_by("dossier__reference", "pk")
    )
    if not subjects:
        return []
    person_of = {s.pk: s.person_link.person_id for s in subjects if hasattr(s, "person_link")}
    matches = ScreeningMatch.objects.filter(status=CONFIRMED).filter(
        Q(subject__in=subjects) | Q(person__in=set(person_of.values()))
    )
    parties_of: dict[tuple[str, int], set[int]] = defaultdict(set)
    for party_id, subject_id, person_id in matches.values_list(
        "party_id", "subject_id", "person_id"
    ):
        parties_of[("subject", subject_id) if subject_id else ("person", person_id)].add(party_id)
    designations = defaultdict(list)
    for designation in (
        appeared_since_an_import(Designation.objects.all())
        .filter(
            party__in={p for parties in parties_of.values() for p in parties},
            delisted_on__isnull=True,
        )
        .select_related("regime")
    ):
        designations[designation.party_id].append(designation)
    rows = []
    for subject in subjects:
        parties = (
            parties_of[("subject", subject.pk)] | parties_of[("person", person_of.get(subject.pk))]
        )
        submitted_on = subject.dossier.submitted_at.date()
        found = sorted(
            (
                d
                for party in parties
                for d in designations[party]
                if _listed_since(d, subject.dossier.submitted_at, submitted_on)
            ),
            key=lambda d: (d.listing_date or submitted_on, d.pk),
        )
        if found:
            rows.append(DesignatedSince(subject, found))
    return rows


def _designations_changed(sender, **kwargs):
    from submissions.dashboard import changed

    changed(DESIGNATIONS)


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from reviews.models import SubjectLink

    for signal in (post_save, post_delete):
        for model in (Designation, ScreeningMatch, SubjectLink):
            signal.connect(
                _designations_changed,
                sender=model,
                dispatch_uid=f"designated-since-{model.__name__}-{signal}",
            )
