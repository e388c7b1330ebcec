"""Demo dossiers for `manage.py seed_demo`: one submitted (for reviewers), one draft."""

import io
from datetime import date

from PIL import Image, ImageDraw
from pypdf import PdfWriter

from portal.models import Organisation, User

from . import services, uploads
from .forms import PositionFormSet
from .models import Dossier, InvolvementRole, Regime, ViolationCategory

SUBMITTED_TITLE = "Demo: detention and torture of journalist A.K. in Kazan"
DRAFT_TITLE = "Demo: misappropriation of the regional hospital fund"


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Demo court ruling (blank pages)"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _photo() -> bytes:
    image = Image.new("RGB", (800, 500), "#556")
    ImageDraw.Draw(image).text((20, 20), "Demo photograph of the detention centre", fill="white")
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def _positions(title: str, organisation: str) -> PositionFormSet:
    """A bound, valid formset of one post held (as the subject form would send it)."""
    formset = PositionFormSet(
        {
            "positions-TOTAL_FORMS": "1",
            "positions-INITIAL_FORMS": "0",
            "positions-0-title": title,
            "positions-0-organisation": organisation,
            "positions-0-country": "RU",
        },
        prefix="positions",
    )
    if not formset.is_valid():
        raise ValueError(formset.errors)
    return formset


def seed_demo_dossiers() -> None:
    """Create the demo dossiers once; running again changes nothing."""
    organisation = Organisation.objects.filter(slug="demo-ngo").first()
    member = User.objects.filter(email__iexact="member@demo.example").first()
    if organisation is None or member is None:
        return
    if not Dossier.objects.filter(organisation=organisation, title=SUBMITTED_TITLE).exists():
        _submitted(organisation, member)
    if not Dossier.objects.filter(organisation=organisation, title=DRAFT_TITLE).exists():
        services.create_dossier(
            organisation=organisation,
            by=member,
            title=DRAFT_TITLE,
            summary="Officials diverted the fund meant for a new hospital wing.",
            target_regimes=Regime.objects.filter(key__in=["GB-AC", "CA-JVCFOA"]),
        )


def _submitted(organisation, member) -> Dossier:
    regimes = list(Regime.objects.filter(key__in=["GB-HR", "US-GLOMAG"]))
    dossier = services.create_dossier(
        organisation=organisation,
        by=member,
        title=SUBMITTED_TITLE,
        summary=(
            "A journalist investigating police corruption was detained without charge for "
            "41 days in 2023 and tortured on the orders of the head of the city police."
        ),
        target_regimes=regimes,
    )
    colonel = services.save_subject(
        dossier,
        by=member,
        fields={
            "kind": "person",
            "name": "Sergei Nikolaevich Volkov",
            "name_original": "Сергей Николаевич Волков",
            "aliases": ["Sergey Volkov", "S. N. Volkov"],
            "gender": "male",
            "birth_date": "1971-06",
            "birth_place": "Kazan",
            "nationalities": ["RU"],
        },
        positions=_positions("Head of the city police", "Kazan city police"),
    )
    officer = services.save_subject(
        dossier,
        by=member,
        fields={
            "kind": "person",
            "name": "Timur Rashidovich Galiev",
            "name_original": "Тимур Рашидович Галиев",
            "birth_date": "1984",
            "nationalities": ["RU"],
        },
    )
    roles = {role.code: role for role in InvolvementRole.objects.all()}
    detention = services.save_incident(
        dossier,
        by=member,
        fields={
            "title": "Detention without charge",
            "category": ViolationCategory.objects.get(code="detention"),
            "start_date": "2023-03-14",
            "end_date": "2023-04-24",
            "country": "RU",
            "place": "Kazan, temporary detention centre No. 2",
            "victims_count": 1,
            "narrative": "A.K. was held for 41 days without charge or access to a lawyer.",
        },
        involvements=[
            {"subject": colonel, "role": roles["responsible"], "description": "Signed the order"},
            {"subject": officer, "role": roles["perpetrator"], "description": "Arrested A.K."},
        ],
    )
    torture = services.save_incident(
        dossier,
        by=member,
        fields={
            "title": "Torture during interrogation",
            "category": ViolationCategory.objects.get(code="torture"),
            "start_date": "2023-03",
            "country": "RU",
            "place": "Kazan",
            "victims_count": 1,
            "narrative": "A.K. was beaten and given electric shocks to force a confession.",
        },
        involvements=[{"subject": officer, "role": roles["perpetrator"], "description": ""}],
    )
    witness = services.save_source(
        dossier,
        by=member,
        fields={
            "kind": "victim",
            "reliability": "B",
            "reliability_reason": "Consistent account, corroborated by medical records.",
            "identity": "A.K. (full name in the organisation's files)",
            "contact": "Through the organisation only",
            "safety_notes": "Relocated; family still in Kazan.",
        },
        consents=[
            {"regime": r, "scope": "anonymous", "given_on": date(2025, 11, 2), "method": "Signed"}
            for r in regimes
        ],
    )
    for content, name, description, incidents in [
        (_pdf(), "court-ruling.pdf", "Ruling that the detention was lawful", [detention]),
        (
            _photo(),
            "detention-centre.jpg",
            "Photograph of the detention centre where A.K. was held and interrogated",
            [detention, torture],
        ),
    ]:
        evidence = services.attach_evidence_file(
            dossier,
            by=member,
            upload=uploads.uploaded_from_bytes(content, name),
            details={
                "description": description,
                "source": witness,
                "reliability": "B",
                "credibility": "2",
                "obtained_on": date(2025, 11, 2),
                "provenance": "Handed over by the victim's lawyer; hashed at intake.",
            },
        )
        services.update_evidence(
            evidence,
            by=member,
            fields={"grade_reason": "Original document"},
            incidents=incidents,
        )
    # The computed items closed from what was filed above; the judgements are written once
    # (a question both governments ask), or per government where each asks its own.
    judgements = {}
    for regime in regimes:
        for item in regime.checklist.filter(criterion__rule="").select_related("criterion"):
            criterion = item.criterion
            key = (criterion.pk, regime.pk if criterion.per_government else None)
            blocking = item.level == "blocking" or judgements.get(key, {}).get("status") == "met"
            judgements[key] = {
                "criterion": criterion,
                "regime": regime,
                "status": "met" if blocking else "partly",
                "explanation": "See the incidents and exhibits.",
            }
    services.answer_checklist_items(dossier, by=member, answers=list(judgements.values()))
    return services.submit_dossier(dossier, by=member)
