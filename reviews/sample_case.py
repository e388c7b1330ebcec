"""
A made-up case for sample briefs (`manage.py sample_briefs`, `make sample-briefs`) and for the
tests that read briefs: three NGOs, two persons and one organisation, a witness who consents to
one government only, canary strings where nothing may leak. Everything goes through the
services (filing, submission, review, verification, decision, matching, packages), except the
subjects' documents, positions and links, which the filing service takes as bound formsets.

Every name, number and event here is invented.
"""

import io
from dataclasses import dataclass, field
from datetime import date

from PIL import Image
from pypdf import PdfWriter

from portal import services as portal_services
from portal.models import User
from submissions import services as filing
from submissions.models import (
    Dossier,
    IdentityDocument,
    InvolvementRole,
    JurisdictionLink,
    PositionHeld,
    Regime,
    ViolationCategory,
)
from submissions.uploads import uploaded_from_bytes

from . import packages
from . import services as review
from .models import Package, Person, SubjectLink

REGIMES = ["US-GLOMAG", "GB-HR", "EU-HR", "AU-HUMAN"]
# Strings that must never reach a brief or a manifest (for a government without consent).
CANARIES = {
    "safety": "CANARY-SAFETY mother lives at 12 Rue des Fleurs",
    "consent": "CANARY-CONSENT recorded by phone",
    "redaction": "CANARY-REDACTION W-3 is a serving officer",
    "disputed": "CANARY-DISPUTED the unit had 400 members",
    "nonconsent_answer": "CANARY-NONCONSENT-ANSWER as the guard told us",
    "nonconsent_narrative": "as a guard saw it from the watchtower at the barracks gate",
    "note": "CANARY-NOTE reviewers only",
}
PERSON_A = {"name": "Sok Vannak", "name_original": "សុខ វណ្ណៈ", "passport": "KHP-A-5550101"}
PERSON_B = {"name": "Khalid Al-Mansouri", "name_original": "خالد المنصوري",
            "passport": "QAP-B-7770202"}  # fmt: skip
ENTITY = {"name": "Provincial Security Unit 7", "registration": "PSU7-REG-0007"}


@dataclass
class Case:
    lead: User
    dossiers: dict = field(default_factory=dict)
    persons: dict = field(default_factory=dict)  # "A", "B", "entity" -> Person
    packages: dict = field(default_factory=dict)  # regime key -> Package


def _user(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    return user or User.objects.create_user(email=email, password=None, full_name=name)


def _organisation(name: str, slug: str, member: User):
    organisation = portal_services.create_organisation(name=name, slug=slug, by=None)
    portal_services.add_member(organisation, member, by=None)
    return organisation


def jpeg_with_gps() -> bytes:
    """A photo whose EXIF says where it was taken (which must not leave the portal)."""
    image = Image.new("RGB", (320, 200), "#556")
    exif = Image.Exif()
    exif[0x010F] = "SampleCam"
    exif[0x8825] = {1: "N", 2: (13.0, 6.0, 0.0), 3: "E", 4: (103.0, 12.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def pdf_with_author(title: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title, "/Author": "Field researcher K. (real name)"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _answers(dossier, member, texts: dict, evidence: dict | None = None) -> None:
    """Answer every criterion of every target regime: met, with the given texts."""
    for regime in dossier.target_regimes.all():
        filing.answer_checklist(
            dossier,
            regime,
            by=member,
            answers=[
                {
                    "criterion": item.criterion,
                    "status": "met",
                    "explanation": texts.get(item.criterion.code, ""),
                    "evidence": (evidence or {}).get(item.criterion.code, []),
                }
                # judgements only: the rest is computed from what the dossier holds
                for item in regime.checklist.filter(criterion__rule="").select_related("criterion")
            ],
        )


def _review_and_approve(dossier, lead, reviewers, *, disputed: set[str] = frozenset()):
    for reviewer in reviewers:
        review.assign_reviewer(dossier, reviewer, by=lead)
    review.start_review(dossier, by=reviewers[0])
    review.verify_answers(
        dossier,
        by=reviewers[0],
        verifications=[
            {
                "answer": answer,
                "status": "disputed" if answer.criterion.code in disputed else "verified",
                "note": CANARIES["note"],
            }
            for answer in dossier.answers.select_related("criterion")
        ],
    )
    for answer in dossier.answers.filter(criterion__code__in=disputed):
        # the lead settles each dispute: the claim stays out of every brief
        review.resolve_verification(
            answer, by=lead, status="insufficient", note="Not shown by the exhibits."
        )
    from reviews import rubric

    for reviewer in reviewers:
        review.save_review(
            dossier,
            by=reviewer,
            scores={code: {"score": 4, "note": "Well sourced."} for code in rubric.codes()},
            recommendation="approve",
            summary="Consistent accounts and documents.",
            submit=True,
        )
    review.decide_dossier(dossier, by=lead, outcome="approved", reason="Meets the standard.")
    return Dossier.objects.get(pk=dossier.pk)


def _entity_record(subject, *, by) -> Person:
    """
    The unit's canonical record. review.create_person takes natural persons only until
    entities become package subjects through matching (another part of #19); until then the
    sample links the entity itself, the one step here that skips a service.
    """
    person = Person.objects.create(name=subject.name, created_by=by)
    SubjectLink.objects.create(subject=subject, person=person, linked_by=by)
    return person


def build(*, slug_prefix: str = "sample") -> Case:
    """Build the case through the services and return it (dossiers approved, persons linked)."""
    regimes = list(Regime.objects.filter(key__in=REGIMES))
    by_key = {r.key: r for r in regimes}
    roles = {r.code: r for r in InvolvementRole.objects.all()}
    category = {c.code: c for c in ViolationCategory.objects.all()}
    lead = portal_services.grant_review_role(
        _user(f"lead@{slug_prefix}.example", "Lena Lead"), lead=True, by=None
    )
    reviewers = [
        portal_services.grant_review_role(_user(f"{n}@{slug_prefix}.example", n), by=None)
        for n in ("rita", "rob")
    ]
    case = Case(lead=lead)

    # NGO 1: person A and the unit, two incidents, a witness who consents to the UK only.
    member1 = _user(f"member@mekong.{slug_prefix}.example", "Mekong member")
    ngo1 = _organisation("Mekong Justice Initiative", f"{slug_prefix}-mekong", member1)
    d1 = filing.create_dossier(
        organisation=ngo1, by=member1, title="Torture and a killing in Battambang province",
        summary="A provincial security unit detained and tortured land-rights activists.",
        target_regimes=regimes,
    )  # fmt: skip
    a1 = filing.save_subject(
        d1, by=member1,
        fields={"kind": "person", "name": PERSON_A["name"],
                "name_original": PERSON_A["name_original"], "aliases": ["Sok Vanak"],
                "gender": "male", "birth_date": "1968-04-02", "birth_place": "Battambang",
                "nationalities": ["KH"], "notes": CANARIES["note"]},
    )  # fmt: skip
    IdentityDocument.objects.create(
        subject=a1, kind="passport", number=PERSON_A["passport"], country="KH",
        issued_on="2019-01", expires_on="2029-01",
    )  # fmt: skip
    PositionHeld.objects.create(
        subject=a1, title="Commander", organisation="Provincial Security Unit 7", country="KH",
        start="2019",
    )  # fmt: skip
    JurisdictionLink.objects.create(
        subject=a1, kind="asset", country="GB", description="Flat in London held through a nominee"
    )
    JurisdictionLink.objects.create(
        subject=a1, kind="study", country="AU", description="Child studying in Melbourne"
    )
    unit = filing.save_subject(
        d1, by=member1,
        fields={"kind": "entity", "name": ENTITY["name"], "legal_form": "State security unit",
                "registration_number": ENTITY["registration"], "jurisdiction": "KH"},
    )  # fmt: skip
    torture = filing.save_incident(
        d1, by=member1,
        fields={"title": "Torture of detained land-rights activists",
                "category": category["torture"], "start_date": "2024-02-10",
                "end_date": "2024-02-14", "country": "KH", "place": "Battambang, unit barracks",
                "victims_count": 4,
                "narrative": "Four activists were beaten and given electric shocks in custody."},
        involvements=[
            {"subject": a1, "role": roles["responsible"],
             "description": "Sok Vannak commanded the unit and ordered the beatings."},
            {"subject": unit, "role": roles["perpetrator"], "description": ""},
        ],
    )  # fmt: skip
    killing = filing.save_incident(
        d1, by=member1,
        fields={"title": "Killing of a community organiser", "category": category["killing"],
                "start_date": "2024-06-11", "country": "KH", "place": "Battambang",
                "victims_count": 1,
                "narrative": "The organiser was shot at a checkpoint; "
                + CANARIES["nonconsent_narrative"] + "."},
        involvements=[{"subject": a1, "role": roles["responsible"], "description": ""}],
    )  # fmt: skip
    uk_only = filing.save_source(
        d1, by=member1,
        fields={"kind": "witness", "reliability": "B", "identity": "Guard at the barracks",
                "safety_notes": CANARIES["safety"]},
        consents=[{"regime": by_key["GB-HR"], "scope": "anonymous",
                   "given_on": date(2025, 3, 1), "method": "Signed form"}],
    )  # fmt: skip
    survivor = filing.save_source(
        d1, by=member1,
        fields={"kind": "victim", "reliability": "B", "identity": "Activist S."},
        consents=[{"regime": r, "scope": "anonymous", "given_on": date(2025, 3, 1),
                   "method": "Signed form"} for r in regimes],
    )  # fmt: skip
    photo = filing.attach_evidence_file(
        d1, by=member1, upload=uploaded_from_bytes(jpeg_with_gps(), "barracks.jpg"),
        details={"description": "Photograph of the barracks cells", "source": survivor,
                 "reliability": "B", "credibility": "2", "obtained_on": date(2025, 2, 1),
                 "provenance": "Taken by the survivor, handed over on a USB stick."},
    )  # fmt: skip
    medical = filing.attach_evidence_file(
        d1, by=member1, upload=uploaded_from_bytes(pdf_with_author("Medical report"), "med.pdf"),
        details={"description": "Medical report on the four activists", "reliability": "A",
                 "credibility": "2", "obtained_on": date(2025, 2, 3),
                 "provenance": "From the clinic's records, via the activists' lawyer."},
    )  # fmt: skip
    statement = filing.attach_evidence_file(
        d1, by=member1,
        upload=uploaded_from_bytes(pdf_with_author("Guard statement"), "guard.pdf"),
        details={"description": "Statement of a guard (UK only)", "source": uk_only,
                 "reliability": "C", "credibility": "2", "obtained_on": date(2025, 3, 1),
                 "provenance": "Signed in our office; kept in our locked archive since."},
    )  # fmt: skip
    filing.update_evidence(photo, by=member1, fields={}, incidents=[torture])
    filing.update_evidence(medical, by=member1, fields={}, incidents=[torture])
    filing.update_evidence(statement, by=member1, fields={}, incidents=[killing])
    _answers(
        d1, member1,
        {"safety-assessment": CANARIES["safety"], "victim-consent": CANARIES["consent"],
         "redaction": CANARIES["redaction"],
         "exculpatory": "The provincial governor denied any abuse in a press statement.",
         "domestic-remedies": "CANARY-NONCONSENT-ANSWER as the guard told us"},
        evidence={"domestic-remedies": [statement]},
    )  # fmt: skip
    d1 = filing.submit_dossier(d1, by=member1)

    # NGO 2: person B.
    member2 = _user(f"member@gulf.{slug_prefix}.example", "Gulf member")
    ngo2 = _organisation("Gulf Rights Documentation", f"{slug_prefix}-gulf", member2)
    d2 = filing.create_dossier(
        organisation=ngo2, by=member2, title="Torture of a journalist in detention",
        summary="A journalist was tortured in a state security facility.", target_regimes=regimes,
    )  # fmt: skip
    b = filing.save_subject(
        d2, by=member2,
        fields={"kind": "person", "name": PERSON_B["name"],
                "name_original": PERSON_B["name_original"], "gender": "male",
                "birth_date": "1975", "nationalities": ["QA"]},
    )  # fmt: skip
    IdentityDocument.objects.create(
        subject=b, kind="passport", number=PERSON_B["passport"], country="QA"
    )
    PositionHeld.objects.create(subject=b, title="Director of interrogations", start="2020")
    JurisdictionLink.objects.create(
        subject=b, kind="asset", country="FR", description="Villa on the Côte d'Azur"
    )
    journalist = filing.save_incident(
        d2, by=member2,
        fields={"title": "Torture of a detained journalist", "category": category["torture"],
                "start_date": "2023-09", "country": "QA", "place": "State security facility",
                "victims_count": 1,
                "narrative": "The journalist was held in stress positions for days."},
        involvements=[{"subject": b, "role": roles["perpetrator"],
                       "description": "Khalid Al-Mansouri personally directed the interrogation."}],
    )  # fmt: skip
    ruling = filing.attach_evidence_file(
        d2, by=member2, upload=uploaded_from_bytes(pdf_with_author("Court record"), "court.pdf"),
        details={"description": "Court record of the journalist's trial", "reliability": "A",
                 "credibility": "1", "obtained_on": date(2024, 5, 2),
                 "provenance": "Certified copy from the court registry, requested by our lawyer."},
    )  # fmt: skip
    filing.update_evidence(ruling, by=member2, fields={}, incidents=[journalist])
    _answers(
        d2, member2,
        {"safety-assessment": CANARIES["safety"], "redaction": CANARIES["redaction"],
         "conduct-threshold": CANARIES["disputed"],
         "public-summary": "As director of interrogations, Khalid Al-Mansouri directed the "
         "torture of a detained journalist in 2023.",
         "exculpatory": "The authorities state that the journalist was lawfully detained.",
         "policy-interest": "Designation would support the government's stated commitment to "
         "the protection of journalists."},
    )  # fmt: skip
    d2 = filing.submit_dossier(d2, by=member2)

    # NGO 3: person A again (a detention), a witness who shares D1's pseudonym number.
    member3 = _user(f"member@lawyers.{slug_prefix}.example", "Lawyers member")
    ngo3 = _organisation("Lawyers for Lawyers Cambodia", f"{slug_prefix}-lawyers", member3)
    d3 = filing.create_dossier(
        organisation=ngo3, by=member3, title="Detention of a defence lawyer",
        summary="A defence lawyer was held without charge.", target_regimes=regimes,
    )  # fmt: skip
    a3 = filing.save_subject(
        d3, by=member3,
        fields={"kind": "person", "name": PERSON_A["name"],
                "name_original": PERSON_A["name_original"], "birth_date": "1968",
                "nationalities": ["KH"]},
    )  # fmt: skip
    IdentityDocument.objects.create(
        subject=a3, kind="passport", number=PERSON_A["passport"], country="KH"
    )
    PositionHeld.objects.create(subject=a3, title="Commander", country="KH", start="2019")
    lawyer = filing.save_incident(
        d3, by=member3,
        fields={"title": "Detention of a defence lawyer without charge",
                "category": category["detention"], "start_date": "2023-11",
                "country": "KH", "place": "Battambang", "victims_count": 1,
                "narrative": "The lawyer was held for 30 days without charge."},
        involvements=[{"subject": a3, "role": roles["responsible"], "description": ""}],
    )  # fmt: skip
    colleague = filing.save_source(
        d3, by=member3, fields={"kind": "witness", "reliability": "B", "identity": "Colleague"},
        consents=[{"regime": r, "scope": "anonymous", "given_on": date(2025, 4, 1),
                   "method": "Signed form"} for r in regimes],
    )  # fmt: skip
    letter = filing.attach_evidence_file(
        d3, by=member3, upload=uploaded_from_bytes(pdf_with_author("Bar letter"), "bar.pdf"),
        details={"description": "Letter of the bar association", "source": colleague,
                 "reliability": "B", "credibility": "2", "obtained_on": date(2024, 1, 5),
                 "provenance": "Sent to us by the bar association's secretary by email."},
    )  # fmt: skip
    filing.update_evidence(letter, by=member3, fields={}, incidents=[lawyer])
    _answers(d3, member3, {"safety-assessment": CANARIES["safety"]})
    d3 = filing.submit_dossier(d3, by=member3)

    for dossier, disputed in ((d1, set()), (d2, {"conduct-threshold"}), (d3, set())):
        case.dossiers[dossier.organisation.slug] = _review_and_approve(
            dossier, lead, reviewers, disputed=disputed
        )
    case.persons["A"] = review.create_person(a1, by=lead)
    review.accept_match(a3, by=lead, person=case.persons["A"])
    case.persons["entity"] = _entity_record(unit, by=lead)
    case.persons["B"] = review.create_person(b, by=lead)
    # The lead words person A's part in the torture for the UK brief.
    packages.edit_brief_text(
        regime=by_key["GB-HR"], subject=a1, by=lead, incident=torture,
        text="As commander, Sok Vannak ordered the beatings (lead reviewer's wording).",
    )  # fmt: skip
    for regime in regimes:  # contrary information, worded for person A in every regime
        packages.edit_brief_text(
            regime=regime, subject=a1, by=lead,
            answer=d1.answers.get(regime=regime, criterion__code="exculpatory"),
            text="The provincial governor denied in a press statement that the unit commanded "
            "by Sok Vannak abused anyone.",
        )  # fmt: skip
    return case


def make_packages(case: Case, *, language: str = "en") -> dict[str, Package]:
    """One package per sample regime, marked ready (rendering is the caller's)."""
    for regime in Regime.objects.filter(key__in=REGIMES):
        package = packages.create_package(
            regime=regime,
            persons=case.persons.values(),
            dossiers=case.dossiers.values(),
            by=case.lead,
            cover_note="Three submitting organisations ask for the designation of two "
            "officials and a provincial security unit.",
            language=language,
        )
        case.packages[regime.key] = packages.mark_ready(package, by=case.lead)
    return case.packages
