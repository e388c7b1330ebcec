"""Demo dossiers for `manage.py seed_demo`: one submitted (for reviewers), one draft."""

import io
from datetime import date

from PIL import Image, ImageDraw
from pypdf import PdfWriter

from portal.models import Organisation, User

from . import services, uploads
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
    services.save_incident(
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
    for content, name, description in [
        (_pdf(), "court-ruling.pdf", "Ruling that the detention was lawful"),
        (_photo(), "detention-centre.jpg", "Photograph of the detention centre"),
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
            incidents=[detention],
        )
    for regime in regimes:
        items = regime.checklist.select_related("criterion")
        services.answer_checklist(
            dossier,
            regime,
            by=member,
            answers=[
                {
                    "criterion": item.criterion,
                    "status": "met" if item.level == "blocking" else "partly",
                    "explanation": "See the incidents and exhibits.",
                }
                for item in items
            ],
        )
    return services.submit_dossier(dossier, by=member)
