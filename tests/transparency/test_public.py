"""The public page and open data: served from the latest snapshot, valid, and name-free."""

import io
import json
import zipfile

import jsonschema
import pytest
from django.urls import reverse
from frictionless import validate

from tests.transparency.conftest import UNTIL, submitted_dossier
from transparency import opendata, services

pytestmark = pytest.mark.django_db

FILES = ["totals.csv", "regime.csv", "category.csv", "country.csv", "year.csv",
         "regime_year.csv", "organisations.csv", "snapshot.json", "datapackage.json"]  # fmt: skip


def test_the_page_says_when_nothing_is_published_yet(client):
    response = client.get(reverse("transparency:page"))
    assert response.status_code == 200
    assert "No statistics have been published yet" in response.content.decode()
    assert client.get(reverse("transparency:download", args=["regime.csv"])).status_code == 404


def test_the_page_reads_one_row_whatever_the_data(client, world, org_a,
                                                  django_assert_num_queries):  # fmt: skip
    services.compute_snapshot(until=UNTIL)
    # 1 the latest snapshot (an anonymous visitor has no session to read)
    with django_assert_num_queries(1):
        first = client.get(reverse("transparency:page"))
    for index in range(10):
        submitted_dossier(org_a, year=2026, subject=f"More {index}", country="IR")
    services.compute_snapshot(until=UNTIL)
    with django_assert_num_queries(1):
        second = client.get(reverse("transparency:page"))
    assert first.status_code == second.status_code == 200
    html = second.content.decode()
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert "<caption>" in html and 'scope="row"' in html
    assert " style=" not in html  # CSP: no inline style attribute anywhere on the page
    assert "Iran" in html


def test_the_page_speaks_japanese_through_the_usual_machinery(client, world):
    services.compute_snapshot(until=UNTIL)
    response = client.get(reverse("transparency:page"), HTTP_ACCEPT_LANGUAGE="ja")
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "中国" in html  # the country of the conduct, named in Japanese


def test_every_download_validates_against_the_data_package(client, world, tmp_path):
    services.compute_snapshot(until=UNTIL)
    for name in FILES:
        response = client.get(reverse("transparency:download", args=[name]))
        assert response.status_code == 200, name
        (tmp_path / name).write_bytes(response.content)
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])
    assert len(report.tasks) == len(FILES) - 1  # every file but the descriptor itself
    descriptor = json.loads((tmp_path / "datapackage.json").read_text())
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    snapshot_resource = next(r for r in descriptor["resources"] if r["name"] == "snapshot")
    document = json.loads((tmp_path / "snapshot.json").read_text())
    jsonschema.validate(document, snapshot_resource["jsonSchema"])
    regime = (tmp_path / "regime.csv").read_text().splitlines()
    assert regime[0].startswith("regime,regime_name,submitted,delivered")
    assert any(",<5," in line or line.endswith(",<5") for line in regime)


def test_the_data_package_fails_validation_when_a_file_is_tampered_with(world, tmp_path):
    snapshot = services.compute_snapshot(until=UNTIL)
    for name, content in opendata.files(snapshot).items():
        (tmp_path / name).write_bytes(content)
    rows = (tmp_path / "year.csv").read_text().splitlines()
    rows[1] = rows[1].replace("2025", "twenty-five")
    (tmp_path / "year.csv").write_text("\n".join(rows))
    assert not validate(str(tmp_path / "datapackage.json")).valid


def test_the_zip_holds_the_whole_package(client, world):
    services.compute_snapshot(until=UNTIL)
    response = client.get(reverse("transparency:archive"))
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        assert sorted(bundle.namelist()) == sorted(FILES)


def test_an_unknown_download_is_a_404(client, world):
    services.compute_snapshot(until=UNTIL)
    for name in ["settings.py", "nothing.csv", "snapshot.xml"]:
        assert client.get(reverse("transparency:download", args=[name])).status_code == 404
    assert client.get("/transparency/data/..%2Fsettings.py").status_code == 404


def test_only_the_latest_snapshot_is_served(client, world, org_a):
    services.compute_snapshot(until=UNTIL)
    for index in range(5):  # new figures wait for the threshold's number of changed dossiers
        submitted_dossier(org_a, year=2026, subject=f"Newer {index}")
    latest = services.compute_snapshot(until=UNTIL)
    body = client.get(reverse("transparency:download", args=["snapshot.json"])).json()
    # 19, unless hidden so that it cannot be set against the first snapshot's 14
    assert body["totals"]["submitted"]["value"] in (19, None)
    assert body["totals"]["submitted"]["status"] in ("published", "withheld", "suppressed")
    assert body["computed_at"] == latest.computed_at.isoformat()
