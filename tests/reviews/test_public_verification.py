"""
What a ministry reaches without an account (issue #20): every signing key the portal has used,
the standalone verifier, and that verifier working in a clean virtual environment with only
its own requirements.
"""

import json
import subprocess
import venv
import zipfile

import pytest
from django.urls import reverse

from portal.keys import new_signing_key
from reviews import signing
from reviews.verifier import verify as verifier


def test_the_keys_page_lists_every_key_ever_used(client, settings, db, tmp_path):
    old_fingerprint = signing.current_fingerprint()
    settings.PORTAL_SIGNING_KEYS = new_signing_key() + settings.PORTAL_SIGNING_KEYS
    new_fingerprint = signing.current_fingerprint()
    page = client.get(reverse("brief-signing-keys"))
    assert page.status_code == 200
    assert verifier.group(new_fingerprint) in page.text
    assert verifier.group(old_fingerprint) in page.text
    assert "signs now" in page.text and "previous key" in page.text
    assert "PRIVATE" not in page.text

    listed = json.loads(client.get(reverse("brief-signing-keys-json")).content)
    assert [k["fingerprint"] for k in listed["keys"]] == [new_fingerprint, old_fingerprint]
    assert all("PRIVATE" not in k["public_key"] for k in listed["keys"])


def test_the_verifier_and_certificate_are_public_and_the_same_as_in_bundles(client, db):
    response = client.get("/verify.py")
    assert response.status_code == 200
    assert response.content == signing.verifier_files()["verify.py"]
    assert response["Content-Type"].startswith("text/plain")
    requirements = client.get("/requirements-verify.txt").content.decode()
    assert "cryptography==" in requirements and "Django" not in requirements
    assert client.get("/keys/certificate.pem").content.startswith(b"-----BEGIN CERTIFICATE")
    assert client.get("/verify.pyc").status_code == 404


def test_verify_py_imports_nothing_from_the_portal():
    source = signing.verifier_files()["verify.py"].decode()
    for name in ("django", "portal", "reviews", "submissions"):
        assert f"import {name}" not in source and f"from {name}" not in source


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory):
    """A virtual environment with nothing but requirements-verify.txt installed."""
    root = tmp_path_factory.mktemp("verify-venv")
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(root / "v")
    python = root / "v" / "bin" / "python"
    requirements = root / "requirements-verify.txt"
    requirements.write_bytes(signing.verifier_files()["requirements-verify.txt"])
    installed = subprocess.run(  # noqa: S603
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "-r", str(requirements)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return python


def test_the_verifier_runs_in_a_clean_virtual_environment(
    clean_venv, package, lena, django_capture_on_commit_callbacks, tmp_path
):
    from tests.reviews.test_packages import render

    version = render(package, lena, django_capture_on_commit_callbacks)
    bundle = tmp_path / "bundle.zip"
    with version.bundle.open("rb") as source:
        bundle.write_bytes(source.read())
    with zipfile.ZipFile(bundle) as archive:
        (tmp_path / "verify.py").write_bytes(archive.read("verify.py"))
    keys = tmp_path / "keys.json"
    keys.write_bytes(signing.keys_json())
    no_django = subprocess.run(  # noqa: S603
        [str(clean_venv), "-c", "import django"], capture_output=True, timeout=60
    )
    assert no_django.returncode != 0  # the environment really is clean
    result = subprocess.run(  # noqa: S603
        [str(clean_venv), str(tmp_path / "verify.py"), str(bundle), "--keys", str(keys)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("verified: signed by key")


def test_signing_keys_lists_and_generates_keys(settings, capsys):
    from django.core.management import call_command

    call_command("signing_keys", "--generate")
    generated = capsys.readouterr().out
    assert generated.startswith("-----BEGIN PRIVATE KEY-----")
    settings.PORTAL_SIGNING_KEYS = generated + settings.PORTAL_SIGNING_KEYS
    call_command("signing_keys")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[-1] for line in lines] == ["current", "previous"]
    assert lines[0].startswith(verifier.group(signing.current_fingerprint()))
