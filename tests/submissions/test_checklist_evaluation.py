"""
The standard of proof checked against what was filed (issue 21): computed items close from the
data, judgements are typed once per question, and the gate, the pages and the API agree.
"""

import re

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from submissions import services
from submissions.checklist import DATA_FILE, completeness, public_text
from submissions.i18n_data import localized
from submissions.models import ChecklistAnswer, Criterion, Dossier, Regime, ViolationCategory
from tests.factories import (
    DossierFactory,
    IncidentFactory,
    SubjectFactory,
    answer_all_blocking,
    make_ready_to_submit,
)


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


def bribery_for_eu(alice, org_a) -> Dossier:
    """A pure bribery case addressed to the EU's human-rights regime, otherwise complete."""
    dossier = DossierFactory(
        organisation=org_a, created_by=alice, target_regimes=[Regime.objects.get(key="EU-HR")]
    )
    IncidentFactory(
        dossier=dossier,
        title="Bribes for the road contract",
        category=ViolationCategory.objects.get(code="bribery"),
    )
    return make_ready_to_submit(dossier, alice)


def _open_names(dossier) -> set[str]:
    return {item.name for row in completeness(dossier) for item in row.open_items}


# Criteria evaluated from the data


def test_the_empty_dossier_with_met_answers_is_refused_with_what_is_missing_in_words(
    alice, dossier
):
    # Every item "met" with the text "x", also the ones the data decides (as the API and the
    # old pages allowed): the gate reads the dossier, not the claims.
    regime = dossier.target_regimes.get()
    for item in regime.checklist.select_related("criterion"):
        ChecklistAnswer.objects.create(
            dossier=dossier,
            regime=regime,
            criterion=item.criterion,
            question=item.criterion.question,
            status="met",
            explanation="x",
            answered_by=alice,
        )
    (row,) = completeness(dossier)
    assert not row.ready and row.percent < 100

    with pytest.raises(ValidationError) as refused:
        services.submit_dossier(dossier, by=alice)
    messages = refused.value.messages
    assert "The subject's name: Add the subject: the person or entity you accuse." in messages
    assert "Conduct this government covers: Add an incident: what happened, when and where." in (
        messages
    )
    assert "Every exhibit graded: Add at least one exhibit." in messages
    assert not any(re.search(r"\b[a-z]+-[a-z]+\b:", m) for m in messages)  # no internal codes
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.DRAFT


def test_adding_a_named_subject_closes_the_name_item_without_typing_anything(alice, dossier):
    assert "The subject's name" in _open_names(dossier)
    services.save_subject(
        dossier,
        by=alice,
        fields={"kind": "person", "name": "Ivan Petrov", "nationalities": ["RU"]},
    )
    assert "The subject's name" not in _open_names(dossier)
    assert not ChecklistAnswer.objects.exists()


def test_computed_items_cannot_be_typed(alice, dossier):
    regime = dossier.target_regimes.get()
    with pytest.raises(ValidationError, match="computed from what the dossier holds"):
        services.answer_checklist(
            dossier,
            regime,
            by=alice,
            answers=[{"criterion": Criterion.objects.get(code="subject-name"), "status": "met"}],
        )
    assert not ChecklistAnswer.objects.exists()


def test_a_computed_item_reopens_when_its_data_goes(alice, dossier):
    make_ready_to_submit(dossier, alice)
    assert _open_names(dossier) == set()
    exhibit = dossier.evidence.get(kind="link")
    services.update_evidence(exhibit, by=alice, fields={"reliability": "E"}, incidents=[])
    assert "A graded exhibit for each incident" in _open_names(dossier)


# One answer per question across governments


def test_two_governments_ask_each_shared_question_once(client, alice, org_a):
    regimes = list(Regime.objects.filter(key__in=["US-GLOMAG", "GB-HR"]))
    dossier = DossierFactory(organisation=org_a, created_by=alice, target_regimes=regimes)
    SubjectFactory(dossier=dossier)
    client.force_login(alice)
    page = client.get(reverse("submissions:checklist", args=[dossier.reference])).text
    form = page[page.index('<form method="post" novalidate') :]
    form = form[: form.index("</form>")]
    names = set(re.findall(r'name="([^"]+)"', form)) - {"csrfmiddlewaretoken"}

    # A shared judgement: one pair of inputs for both governments.
    assert {"safety-assessment-status", "safety-assessment-explanation"} <= names
    assert not any(n.startswith("safety-assessment--") for n in names)
    # A question each government asks on its own: once per government.
    assert {"legal-basis--US-GLOMAG-status", "legal-basis--GB-HR-status"} <= names
    # Computed items have no input at all.
    assert not any(n.startswith(("subject-name", "time-place", "victim-consent")) for n in names)
    # The per-government pages needed 108 inputs for these two governments.
    assert len(names) <= 108 // 3, len(names)

    # Answered once, it is recorded for both governments that ask it.
    response = client.post(
        reverse("submissions:checklist", args=[dossier.reference]),
        {"safety-assessment-status": "met", "safety-assessment-explanation": "Relocated."},
    )
    assert response.status_code == 302
    assert sorted(
        dossier.answers.filter(criterion__code="safety-assessment").values_list(
            "regime__key", flat=True
        )
    ) == ["GB-HR", "US-GLOMAG"]


# Readable and forgiving


def test_an_invalid_item_does_not_discard_the_valid_ones(client, alice, dossier):
    client.force_login(alice)
    url = reverse("submissions:checklist", args=[dossier.reference])
    response = client.post(
        url,
        {
            "safety-assessment-status": "met",
            "safety-assessment-explanation": "Family relocated; contact through the lawyer.",
            "redaction-status": "not_applicable",  # without a reason: invalid
            "redaction-explanation": "",
        },
    )
    assert response.status_code == 200
    saved = dossier.answers.get(criterion__code="safety-assessment")
    assert saved.explanation == "Family relocated; contact through the lawyer."
    assert not dossier.answers.filter(criterion__code="redaction").exists()
    # The error summary names the failing item in words and links to its field.
    summary = response.text[response.text.index('id="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert 'href="#id_redaction-explanation"' in summary
    assert "Protected witnesses pseudonymised: Say why this item does not apply." in summary
    assert "safety-assessment" not in summary
    # What was typed stays on the page, and the banner says what was saved.
    assert "Family relocated" in response.text
    assert "The other answers were saved" in response.text


def test_the_meter_names_open_items_in_words_linked_to_where_they_are_fixed(client, alice, dossier):
    client.force_login(alice)
    page = client.get(reverse("submissions:subject-list", args=[dossier.reference])).text
    subjects = reverse("submissions:subject-list", args=[dossier.reference])
    checklist = reverse("submissions:checklist", args=[dossier.reference])
    assert f'<a href="{subjects}">The subject&#x27;s name</a>' in page
    assert f'<a href="{checklist}#item-safety-assessment">' in page
    assert ">subject-name<" not in page


# Scope and age warnings


def test_a_bribery_only_dossier_for_eu_hr_is_refused_with_the_reason(client, alice, org_a):
    dossier = bribery_for_eu(alice, org_a)
    (row,) = completeness(dossier)
    assert [item.name for item in row.open_items] == ["Conduct this government covers"]
    assert any("does not cover “Bribery (giving or receiving)”" in w for w in row.warnings)
    with translation.override("ja"):  # the category in the reader's language, not English
        (row,) = completeness(dossier)
        assert any("贈収賄（供与または収受）" in w for w in row.warnings)
        assert not any("Bribery" in w for w in row.warnings)

    client.force_login(alice)
    response = client.post(
        reverse("submissions:dossier-submit", args=[dossier.reference]), follow=True
    )
    assert "covers none of this dossier&#x27;s conduct (Bribery (giving or receiving))" in (
        response.text
    )
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.DRAFT


def test_a_corruption_regime_takes_the_same_bribery_dossier(alice, org_a):
    dossier = DossierFactory(
        organisation=org_a, created_by=alice, target_regimes=[Regime.objects.get(key="GB-AC")]
    )
    IncidentFactory(dossier=dossier, category=ViolationCategory.objects.get(code="bribery"))
    make_ready_to_submit(dossier, alice)
    services.submit_dossier(dossier, by=alice)
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.SUBMITTED


def test_an_incident_decades_old_is_flagged_and_can_still_be_submitted(client, alice, dossier):
    IncidentFactory(dossier=dossier, title="Massacre at the mine", start_date="1998-07")
    make_ready_to_submit(dossier, alice)
    (row,) = completeness(dossier)
    assert row.ready
    (warning,) = [w for w in row.warnings if "Massacre at the mine" in w]
    assert "over 10 years old" in warning and "You can still submit" in warning

    client.force_login(alice)
    page = client.get(reverse("submissions:dossier-detail", args=[dossier.reference])).text
    assert "“Massacre at the mine” is over 10 years old" in page
    services.submit_dossier(dossier, by=alice)
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.SUBMITTED


def test_a_source_without_consent_for_a_government_is_flagged_not_refused(alice, org_a):
    gb, us = Regime.objects.filter(key__in=["GB-HR", "US-GLOMAG"]).order_by("key")
    dossier = DossierFactory(organisation=org_a, created_by=alice, target_regimes=[gb, us])
    services.save_source(
        dossier,
        by=alice,
        fields={"kind": "witness", "identity": "Olga"},
        consents=[{"regime": gb, "scope": "anonymous", "given_on": "2026-01-05", "method": "x"}],
    )
    make_ready_to_submit(dossier, alice)
    rows = {row.regime.key: row for row in completeness(dossier)}
    assert rows["US-GLOMAG"].ready and rows["GB-HR"].ready
    assert any("will be withheld" in w for w in rows["US-GLOMAG"].warnings)
    assert not any("will be withheld" in w for w in rows["GB-HR"].warnings)


def test_a_witness_whose_consent_was_never_recorded_blocks(alice, dossier):
    services.save_source(dossier, by=alice, fields={"kind": "victim", "identity": "A.K."})
    answer_all_blocking(dossier, alice)
    assert "Consent of each source for this government" in _open_names(dossier)


def test_japan_is_listed_as_advocacy_only(client, alice):
    client.force_login(alice)
    page = client.get(reverse("submissions:dossier-create")).text
    assert "Japan (proposed Magnitsky-style law): no law yet: advocacy only." in page
    japan = Regime.objects.get(key="JP-PROPOSED")
    assert f'value="{japan.pk}"' not in page  # not a choice: nothing can be submitted there


# The data file


def test_every_item_is_named_in_japanese_without_the_maintainers_tags(db):
    data = yaml.safe_load(DATA_FILE.read_text())
    assert all(row.get("title") for row in data["criteria"])
    tag = re.compile(r"\[(?:C|S|U)(?::[^\]]*)?\]")
    with translation.override("ja"):
        for criterion in Criterion.objects.all():
            assert criterion.name != criterion.title, criterion.code
            for field in ("question", "guidance", "evidence"):
                assert not tag.search(localized(criterion, field)), (criterion.code, field)
        for regime in Regime.objects.all():
            for field in ("name", "standard_of_proof", "guidance"):
                assert not tag.search(localized(regime, field)), (regime.key, field)


def test_maintainers_tags_never_reach_the_pages(db):
    assert public_text("Credible evidence [U]; NGO input [S: S18] (S35) [S35].") == (
        "Credible evidence; NGO input (S35) [S35]."
    )
    for regime in Regime.objects.all():
        for text in (regime.standard_of_proof, regime.guidance, regime.covers):
            assert not re.search(r"\[(C|S|U)(:[^\]]*)?\]", text), (regime.key, text)
