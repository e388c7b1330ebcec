"""
Signed briefs (issue #20): each way a ministry's analyst tampered with a bundle fails the
standalone verifier with a message naming what changed; a fresh bundle passes, also after the
portal's key was rotated; the PDF carries a valid PAdES signature.
"""

import base64
import datetime
import hashlib
import io
import json
import subprocess
import sys
import zipfile

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from portal.keys import new_signing_key
from portal.models import AuditChainHead, AuditEvent
from reviews import packages, signing
from reviews.models import BriefVersion
from reviews.verifier import verify as verifier
from tests.reviews.test_packages import render


@pytest.fixture
def version(package, lena, django_capture_on_commit_callbacks) -> BriefVersion:
    return render(package, lena, django_capture_on_commit_callbacks)


@pytest.fixture
def bundle(version, tmp_path):
    path = tmp_path / "bundle.zip"
    with version.bundle.open("rb") as source:
        path.write_bytes(source.read())
    return path


@pytest.fixture
def published_keys(tmp_path):
    """keys.json as the portal publishes it now (what a ministry downloads from /keys.json)."""
    path = tmp_path / "published-keys.json"
    path.write_bytes(signing.keys_json())
    return path


def rewrite(bundle, target, *, replace=None, drop=(), add=None):
    """Copy a bundle, replacing, dropping and adding entries."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(target, "w") as copy:
        for item in source.infolist():
            if item.filename in drop:
                continue
            data = source.read(item.filename)
            if item.filename in replace:
                data = (
                    replace[item.filename](data)
                    if callable(replace[item.filename])
                    else (replace[item.filename])
                )
            copy.writestr(item.filename, data)
        for name, data in add.items():
            copy.writestr(name, data)
    return target


def read(bundle, name) -> bytes:
    with zipfile.ZipFile(bundle) as archive:
        return archive.read(name)


def names(bundle) -> list[str]:
    with zipfile.ZipFile(bundle) as archive:
        return archive.namelist()


def ref(bundle, number: int) -> str:
    """The stable reference of the dossier's exhibit `number` (D<dossier>-E<number>)."""
    manifest = json.loads(read(bundle, "manifest.json"))
    return next(e["number"] for e in manifest["exhibits"] if e["number"].endswith(f"-E{number}"))


def exhibit_name(bundle, number) -> str:
    reference = ref(bundle, int(number.removeprefix("E-")))
    return next(n for n in names(bundle) if n.startswith(f"exhibits/{reference}_"))


def edit_manifest(bundle, change) -> bytes:
    manifest = json.loads(read(bundle, "manifest.json"))
    change(manifest)
    return verifier.canonical_json(manifest)


def failures(report) -> str:
    return " | ".join(f"{c.name}: {c.detail}" for c in report.failures)


# A fresh bundle


def test_a_fresh_bundle_verifies_with_a_plain_report(bundle, published_keys, version):
    report = verifier.verify(bundle, keys_file=published_keys)
    assert report.ok, failures(report)
    contents = names(bundle)
    assert {"brief.pdf", "manifest.json", "manifest.sig", "keys.json", "verify.py",
            "requirements-verify.txt"} <= set(contents)  # fmt: skip
    manifest = json.loads(read(bundle, "manifest.json"))
    assert {f["path"] for f in manifest["files"]} == set(contents) - {"manifest.json",
                                                                      "manifest.sig"}  # fmt: skip
    summary = report.summary()
    assert summary.startswith(f"verified: signed by key {verifier.group(version.signing_key)}")
    assert f"{len(manifest['files'])} files; nothing missing or added" in summary
    assert "NOTE" not in summary  # the key was checked against the published list


def test_the_manifest_describes_each_file_with_its_exhibit_and_consent(bundle, version, approved):
    manifest = json.loads(read(bundle, "manifest.json"))
    assert read(bundle, "manifest.json") == verifier.canonical_json(manifest)
    files = {f["path"]: f for f in manifest["files"]}
    photo = files[exhibit_name(bundle, "E-2")]
    dossier = approved[0]
    assert photo["exhibit"] == ref(bundle, 2)
    assert photo["evidence"] == f"{dossier.reference}/{ref(bundle, 2)}"
    assert photo["consent_scope"] == "anonymous:GB-HR"
    assert photo["media_type"] == "image/jpeg"
    assert files[exhibit_name(bundle, "E-1")]["consent_scope"] == "no-source"
    assert files["brief.pdf"]["sha256"] == version.pdf_sha256 == manifest["brief"]["sha256"]
    assert manifest["signing_key"] == signing.current_fingerprint() == version.signing_key
    assert manifest["package"] == version.package.reference
    assert manifest["recipient"] == version.package.recipient


def test_the_manifest_records_the_audit_head_at_export(bundle, version):
    manifest = json.loads(read(bundle, "manifest.json"))
    head = manifest["audit_head"]
    rendered = AuditEvent.objects.get(action="brief.rendered")
    # the head recorded is an event of the chain written before the export's own events
    recorded = AuditEvent.objects.get(sequence=head["sequence"])
    assert recorded.hash == head["hash"]
    assert recorded.sequence < rendered.sequence
    between = AuditEvent.objects.filter(
        sequence__gt=recorded.sequence, sequence__lt=rendered.sequence
    ).values_list("action", flat=True)
    assert set(between) <= {"package.rendered", "brief.rendering", "evidence.scanned"}, between
    assert rendered.data["audit_head"] == head
    assert rendered.data["manifest_sha256"] == version.manifest_sha256
    assert AuditChainHead.objects.get(pk=1).sequence == rendered.sequence


def test_verify_brief_command_runs_the_same_verifier(bundle, published_keys, capsys, tmp_path):
    call_command("verify_brief", str(bundle), "--keys", str(published_keys))
    assert "verified: signed by key" in capsys.readouterr().out
    tampered = rewrite(bundle, tmp_path / "t.zip", add={"exhibits/E-9_planted.pdf": b"%PDF"})
    with pytest.raises(CommandError, match="exhibits/E-9_planted.pdf: added"):
        call_command("verify_brief", str(tampered))


def test_the_shipped_verify_py_runs_outside_the_portal(bundle, tmp_path, published_keys):
    """verify.py from the bundle, in a plain Python process with no Django settings."""
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-I", str(folder / "verify.py"), str(folder), "--keys",
         str(published_keys)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={"PATH": "/usr/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing missing or added" in result.stdout
    (folder / "exhibits" / "extra.txt").write_text("planted")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-I", str(folder / "verify.py"), str(folder)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={"PATH": "/usr/bin"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "FAIL exhibits/extra.txt added" in result.stdout


# Each tampering case


def test_a_swapped_exhibit_fails_even_with_its_hash_rewritten(bundle, tmp_path, published_keys):
    name = exhibit_name(bundle, "E-1")
    forged = b"%PDF-1.4 a different ruling"
    digest = hashlib.sha256(forged).hexdigest()

    # swapped alone: the file's hash no longer matches
    swapped = rewrite(bundle, tmp_path / "swapped.zip", replace={name: forged})
    report = verifier.verify(swapped, keys_file=published_keys)
    assert not report.ok
    assert f"{name} (exhibit {ref(bundle, 1)}): changed: SHA-256 {digest}" in failures(report)

    # swapped and the manifest's hash rewritten to match: the signature no longer holds
    def rewrite_hash(manifest):
        for entry in manifest["files"]:
            if entry["path"] == name:
                entry["sha256"], entry["size"] = digest, len(forged)
        for entry in manifest["exhibits"]:
            if entry["number"] == ref(bundle, 1):
                entry["sha256"] = digest

    manifest = edit_manifest(bundle, rewrite_hash)
    both = rewrite(bundle, tmp_path / "both.zip", replace={name: forged, "manifest.json": manifest})
    report = verifier.verify(both, keys_file=published_keys)
    assert not report.ok
    assert "manifest: manifest.json was changed after it was signed" in failures(report)


def test_a_removed_exhibit_fails(bundle, tmp_path, published_keys):
    """The contrary evidence taken out: from the ZIP alone, or from the ZIP and the manifest."""
    name, e2 = exhibit_name(bundle, "E-2"), ref(bundle, 2)
    removed = rewrite(bundle, tmp_path / "removed.zip", drop={name})
    report = verifier.verify(removed, keys_file=published_keys)
    assert not report.ok
    assert f"{name}: missing from the bundle" in failures(report)

    def forget(manifest):
        manifest["files"] = [f for f in manifest["files"] if f["path"] != name]
        manifest["exhibits"] = [e for e in manifest["exhibits"] if e["number"] != e2]

    hidden = rewrite(
        bundle, tmp_path / "hidden.zip", drop={name},
        replace={"manifest.json": edit_manifest(bundle, forget)},
    )  # fmt: skip
    report = verifier.verify(hidden, keys_file=published_keys)
    assert "manifest.json was changed after it was signed" in failures(report)


def test_an_added_file_fails(bundle, tmp_path, published_keys):
    planted = rewrite(bundle, tmp_path / "planted.zip", add={"exhibits/E-4_memo.pdf": b"%PDF-x"})
    report = verifier.verify(planted, keys_file=published_keys)
    assert not report.ok
    assert "exhibits/E-4_memo.pdf: added: not listed in the manifest" in failures(report)


def test_a_duplicated_entry_fails(bundle, tmp_path, published_keys):
    """A second entry of the same name: unzip tools disagree on which one they show."""
    name = exhibit_name(bundle, "E-1")
    doubled = rewrite(bundle, tmp_path / "doubled.zip", add={name: b"%PDF other"})
    report = verifier.verify(doubled, keys_file=published_keys)
    assert "entries appear more than once" in failures(report)


def test_an_edited_manifest_fails(bundle, tmp_path, published_keys):
    def downgrade(manifest):
        manifest["recipient"] = "Someone else"

    edited = rewrite(
        bundle, tmp_path / "edited.zip", replace={"manifest.json": edit_manifest(bundle, downgrade)}
    )
    report = verifier.verify(edited, keys_file=published_keys)
    assert "manifest: manifest.json was changed after it was signed" in failures(report)

    # the same bytes re-indented: still a change (only the signed bytes count)
    pretty = json.dumps(json.loads(read(bundle, "manifest.json")), indent=2).encode()
    report = verifier.verify(
        rewrite(bundle, tmp_path / "pretty.zip", replace={"manifest.json": pretty}),
        keys_file=published_keys,
    )
    assert "manifest.json was changed after it was signed" in failures(report)


def test_an_edited_pdf_fails_even_with_its_hash_rewritten(bundle, tmp_path, published_keys):
    pdf = read(bundle, "brief.pdf")
    edited = pdf.replace(b"/Producer", b"/Producex", 1)
    assert edited != pdf
    digest = hashlib.sha256(edited).hexdigest()
    report = verifier.verify(
        rewrite(bundle, tmp_path / "pdf.zip", replace={"brief.pdf": edited}),
        keys_file=published_keys,
    )
    assert f"brief.pdf: changed: SHA-256 {digest}" in failures(report)

    def rehash(manifest):
        manifest["brief"]["sha256"] = digest
        for entry in manifest["files"]:
            if entry["path"] == "brief.pdf":
                entry["sha256"] = digest

    both = rewrite(
        bundle, tmp_path / "pdf-both.zip",
        replace={"brief.pdf": edited, "manifest.json": edit_manifest(bundle, rehash)},
    )  # fmt: skip
    report = verifier.verify(both, keys_file=published_keys)
    assert "manifest.json was changed after it was signed" in failures(report)


def test_a_bundle_resigned_with_another_key_fails_against_the_published_keys(
    bundle, tmp_path, published_keys
):
    """A forger signs a changed manifest with their own key and ships their own keys.json."""
    forger = Ed25519PrivateKey.generate()
    fingerprint = verifier.fingerprint_of(forger.public_key())

    def change(manifest):
        manifest["recipient"] = "Someone else"
        manifest["signing_key"] = fingerprint

    manifest = edit_manifest(bundle, change)
    signature = verifier.canonical_json({
        "format": "magnitsky-portal-signature/1", "algorithm": "Ed25519", "key": fingerprint,
        "signature": base64.b64encode(forger.sign(manifest)).decode(), "timestamp": None,
    })  # fmt: skip
    pem = forger.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged_keys = verifier.canonical_json(
        {"keys": [{"fingerprint": fingerprint, "public_key": pem.decode(), "status": "current"}]}
    )
    forged = rewrite(
        bundle, tmp_path / "forged.zip",
        replace={"manifest.json": manifest, "manifest.sig": signature, "keys.json": forged_keys},
    )  # fmt: skip
    report = verifier.verify(forged, keys_file=published_keys)
    assert f"signing key {fingerprint} is not in the key list" in failures(report)
    report = verifier.verify(forged, fingerprint=signing.current_fingerprint())
    assert "key: signed by" in failures(report)
    # without a published list the verifier still checks hashes (keys.json changed) and warns
    report = verifier.verify(forged)
    assert "keys.json: changed" in failures(report)


def test_a_signed_manifest_that_disagrees_with_the_pdf_annex_fails(bundle, tmp_path, settings):
    """Even a manifest signed with the portal's key fails if the PDF's annex lists otherwise."""
    name, e2 = exhibit_name(bundle, "E-2"), ref(bundle, 2)

    def forget(manifest):
        manifest["files"] = [f for f in manifest["files"] if f["path"] != name]
        manifest["exhibits"] = [e for e in manifest["exhibits"] if e["number"] != e2]

    manifest = edit_manifest(bundle, forget)
    inconsistent = rewrite(
        bundle, tmp_path / "annex.zip", drop={name},
        replace={"manifest.json": manifest, "manifest.sig": signing.sign_manifest(manifest)},
    )  # fmt: skip
    report = verifier.verify(inconsistent)
    assert [c.name for c in report.failures] == ["annex"]
    assert f"only in the PDF: {e2}; only in the manifest: -" in failures(report)


# Key rotation


def test_a_bundle_signed_with_a_rotated_out_key_still_verifies(bundle, version, settings, tmp_path):
    old = signing.public_keys()[0]
    settings.PORTAL_SIGNING_KEYS = new_signing_key() + "\n" + settings.PORTAL_SIGNING_KEYS
    assert signing.current_fingerprint() != old.fingerprint
    statuses = {k.fingerprint: k.status for k in signing.public_keys()}
    assert statuses[old.fingerprint] == "previous"
    published = tmp_path / "after-rotation.json"
    published.write_bytes(signing.keys_json())
    report = verifier.verify(bundle, keys_file=published)
    assert report.ok, failures(report)
    assert "(previous)" in report.summary()

    # later the old private key is destroyed: only its public key stays published
    retired = tmp_path / "retired.pem"
    retired.write_text(old.pem)
    settings.PORTAL_SIGNING_KEYS = new_signing_key()
    settings.PORTAL_RETIRED_SIGNING_KEYS_FILE = str(retired)
    published.write_bytes(signing.keys_json())
    report = verifier.verify(bundle, keys_file=published)
    assert report.ok, failures(report)
    assert "(retired)" in report.summary()

    # and a list that forgot it refuses the bundle
    settings.PORTAL_RETIRED_SIGNING_KEYS_FILE = ""
    published.write_bytes(signing.keys_json())
    assert not verifier.verify(bundle, keys_file=published).ok


# The PDF signature (PAdES)


def validate_pdf(pdf: bytes, *, extra_roots=()):
    """pyHanko's validator, trusting the portal's published certificate (and `extra_roots`)."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    der = signing.certificate().public_bytes(serialization.Encoding.DER)
    portal = asn1_x509.Certificate.load(der)
    (embedded,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    context = ValidationContext(trust_roots=[portal, *extra_roots], allow_fetching=False)
    return validate_pdf_signature(embedded, context)


def test_the_pdf_carries_a_valid_pades_signature_by_the_portal_key(bundle):
    status = validate_pdf(read(bundle, "brief.pdf"))
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    signer = status.signing_cert
    assert signing.current_fingerprint()[:16] in signer.subject.human_friendly
    public = serialization.load_der_public_key(signer.public_key.dump())
    assert verifier.fingerprint_of(public) == signing.current_fingerprint()


def test_pdfsig_reads_the_signature_and_its_signer(bundle, tmp_path):
    """poppler's pdfsig lists the signer; its NSS cannot check Ed25519, so pyHanko does that."""
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(read(bundle, "brief.pdf"))
    result = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, timeout=60)  # noqa: S603,S607
    assert "Signature Field Name: PortalSignature" in result.stdout
    assert f"Brief signing key {signing.current_fingerprint()[:16]}" in result.stdout
    assert "Total document signed" in result.stdout


def test_a_changed_pdf_is_reported_by_the_pdf_validator(bundle):
    pdf = bytearray(read(bundle, "brief.pdf"))
    at = pdf.index(b"/Producer")
    pdf[at + 1 : at + 2] = b"p"
    status = validate_pdf(bytes(pdf))
    assert not status.intact and not status.bottom_line


def test_the_cover_shows_the_signing_key_fingerprint(bundle):
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(read(bundle, "brief.pdf"))).pages[0].extract_text()
    grouped = verifier.group(signing.current_fingerprint())
    assert grouped.split()[0] in text and grouped.split()[-1] in text


# Trusted time (RFC 3161), against a timestamp authority the test starts


@pytest.fixture
def tsa(settings):
    from tests.reviews.tsa import LocalTSA

    with LocalTSA() as authority:
        settings.PORTAL_TSA_URL = authority.url
        yield authority


@pytest.fixture
def stamped_bundle(tsa, package, lena, django_capture_on_commit_callbacks, tmp_path):
    version = render(package, lena, django_capture_on_commit_callbacks)
    path = tmp_path / "stamped.zip"
    with version.bundle.open("rb") as source:
        path.write_bytes(source.read())
    return path


def test_the_manifest_signature_is_timestamped_by_the_authority(
    stamped_bundle, published_keys, tsa
):
    signature = json.loads(read(stamped_bundle, "manifest.sig"))
    assert signature["timestamp"]
    report = verifier.verify(stamped_bundle, keys_file=published_keys)
    assert report.ok, failures(report)
    assert "RFC 3161 timestamp by CN=Test Timestamp Authority" in report.summary()
    assert "names no authority to check it by" in report.checks[2].detail
    stamped = datetime.datetime.fromisoformat(report.signed_at)
    assert abs(stamped - timezone.now()) < datetime.timedelta(minutes=5)
    # the manifest and the PDF (pyHanko asks once more first, to size the PDF's signature)
    assert tsa.requests == 3
    rendered = AuditEvent.objects.get(action="brief.rendered")
    assert rendered.data["timestamped"] is True


def test_a_timestamp_for_other_data_or_with_a_broken_signature_fails(
    stamped_bundle, published_keys, tmp_path, tsa
):
    signature = json.loads(read(stamped_bundle, "manifest.sig"))
    other = signing.timestamp_token(b"some other signature")
    moved = dict(signature, timestamp=base64.b64encode(other).decode())
    report = verifier.verify(
        rewrite(stamped_bundle, tmp_path / "other.zip",
                replace={"manifest.sig": verifier.canonical_json(moved)}),
        keys_file=published_keys,
    )  # fmt: skip
    assert "timestamp: the timestamp was issued for other data" in failures(report)

    token = bytearray(base64.b64decode(signature["timestamp"]))
    token[-5] ^= 1  # inside the authority's signature, the last field of the token
    broken = dict(signature, timestamp=base64.b64encode(bytes(token)).decode())
    report = verifier.verify(
        rewrite(stamped_bundle, tmp_path / "broken.zip",
                replace={"manifest.sig": verifier.canonical_json(broken)}),
        keys_file=published_keys,
    )  # fmt: skip
    assert "timestamp:" in failures(report)
    assert not report.ok


def test_the_pdf_signature_carries_a_valid_timestamp(stamped_bundle, tsa):
    status = validate_pdf(read(stamped_bundle, "brief.pdf"), extra_roots=[tsa.certificate])
    assert status.bottom_line, status.pretty_print_details()
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.valid
    assert status.timestamp_validity.trusted


def test_without_the_authority_no_brief_goes_out(
    settings, package, lena, django_capture_on_commit_callbacks
):
    """A configured authority that does not answer fails the render: no unstamped brief."""
    settings.PORTAL_TSA_URL = "http://127.0.0.1:9/tsa"  # the discard port: nothing listens
    settings.PORTAL_TSA_TIMEOUT = 2
    with django_capture_on_commit_callbacks(execute=False):
        version = packages.request_render(package, by=lena)
    with pytest.raises(OSError):  # the task retries it later (autoretry_for=OSError)
        packages.render_version(version)
    version.refresh_from_db()
    assert version.status == "failed" and not version.bundle


def test_an_unpacked_bundle_with_a_link_to_another_file_fails(bundle, tmp_path, published_keys):
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    assert verifier.verify(folder, keys_file=published_keys).ok
    name = exhibit_name(bundle, "E-1")
    (folder / name).unlink()
    (folder / name).symlink_to(tmp_path / "bundle.zip")
    report = verifier.verify(folder, keys_file=published_keys)
    assert f"{name}: a symbolic link, not a file of the bundle" in failures(report)


def test_a_timestamp_from_an_authority_the_key_list_does_not_name_fails(
    stamped_bundle, tsa, settings, tmp_path
):
    from cryptography import x509

    der = tsa.certificate.dump()
    fingerprint = x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256()).hex()
    published = tmp_path / "keys-with-tsa.json"
    settings.PORTAL_TSA_CERT_SHA256 = [fingerprint]
    published.write_bytes(signing.keys_json())
    report = verifier.verify(stamped_bundle, keys_file=published)
    assert report.ok, failures(report)
    assert fingerprint in report.checks[2].detail

    settings.PORTAL_TSA_CERT_SHA256 = ["ab" * 32]  # another authority
    published.write_bytes(signing.keys_json())
    report = verifier.verify(stamped_bundle, keys_file=published)
    assert f"certificate {fingerprint} is not in the key list" in failures(report)
