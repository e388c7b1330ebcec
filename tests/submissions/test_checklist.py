from pathlib import Path

import pytest
import yaml

from submissions.checklist import DATA_FILE, completeness, load_checklist
from submissions.models import (
    ChecklistVersion,
    Criterion,
    Regime,
    RegimeCoverage,
    RegimeCriterion,
)
from tests.factories import DossierFactory, SubjectFactory


def test_the_data_migration_loads_every_regime_and_criterion(db):
    assert Regime.objects.count() == 10
    assert Criterion.objects.count() == 29
    assert set(Regime.objects.open_for_submissions().values_list("key", flat=True)) == {
        "US-GLOMAG", "US-7031C", "GB-HR", "GB-AC", "EU-HR",
        "CA-JVCFOA", "CA-SEMA", "AU-HUMAN", "AU-CRP",
    }  # fmt: skip
    japan = Regime.objects.get(key="JP-PROPOSED")
    assert (japan.status, japan.accepts_submissions) == ("proposed", False)
    assert ChecklistVersion.objects.get().version == "2026.1"


def test_coverage_and_levels_follow_the_domain_reference(db):
    gb_hr = Regime.objects.get(key="GB-HR")
    assert RegimeCoverage.objects.get(regime=gb_hr, category__code="torture").level == "Y"
    assert RegimeCoverage.objects.get(regime=gb_hr, category__code="detention").level == "C"
    assert not RegimeCoverage.objects.filter(regime=gb_hr, category__code="bribery").exists()
    # victim-status: blocking for CA-JVCFOA, advisory for GB-HR.
    levels = dict(
        RegimeCriterion.objects.filter(criterion__code="victim-status").values_list(
            "regime__key", "level"
        )
    )
    assert levels["CA-JVCFOA"] == "blocking" and levels["GB-HR"] == "advisory"
    # Criteria for all regimes are not asked for the proposed Japanese regime.
    assert not RegimeCriterion.objects.filter(regime__key="JP-PROPOSED").exists()


def test_loading_again_changes_nothing(db):
    before = (RegimeCriterion.objects.count(), RegimeCoverage.objects.count())
    assert load_checklist() == "2026.1"
    assert (RegimeCriterion.objects.count(), RegimeCoverage.objects.count()) == before
    assert ChecklistVersion.objects.count() == 1


def test_a_new_regime_is_added_as_data_without_code(db, tmp_path: Path):
    data = yaml.safe_load(DATA_FILE.read_text())
    data["version"] = "2026.2"
    data["regimes"].append(
        {
            "key": "LT-MAGNITSKY",
            "name": "Lithuania Magnitsky amendments",
            "jurisdiction": "LT",
            "status": "active",
            "accepts_submissions": True,
            "coverage": {"torture": {"level": "Y"}},
            "roles": {"perpetrator": {"level": "Y"}},
        }
    )
    changed = tmp_path / "checklist.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True))

    assert load_checklist(changed) == "2026.2"

    lithuania = Regime.objects.get(key="LT-MAGNITSKY")
    assert lithuania.checklist.filter(criterion__code="subject-name", level="blocking").exists()
    assert ChecklistVersion.objects.first().version == "2026.2"


@pytest.fixture
def dossier(alice):
    return DossierFactory(organisation=alice.memberships.get().organisation, created_by=alice)


def test_completeness_lists_every_open_blocking_item_with_its_step(dossier):
    (row,) = completeness(dossier)
    assert row.regime.key == "GB-HR" and not row.ready
    codes = {item.criterion.code: item.step for item in row.open_items}
    assert codes["subject-name"] == "subjects"
    assert codes["safety-assessment"] == "checklist"
    # No source yet: nobody's consent is missing.
    assert "victim-consent" not in codes
    # Items for entities or web evidence do not apply until the dossier has them.
    assert "subject-entity" not in codes and "open-source-capture" not in codes


def test_entity_items_apply_once_an_entity_is_a_subject(dossier):
    SubjectFactory(dossier=dossier, kind="entity", name="Acme Security LLC", name_original="")
    (row,) = completeness(dossier)
    assert "subject-entity" in {item.criterion.code for item in row.open_items}
