#!/usr/bin/env python3
"""
Verify a government brief from the evidence portal, without the portal.

    python3 -m venv v && v/bin/pip install -r requirements-verify.txt
    v/bin/python verify.py BUNDLE.zip [--keys keys.json] [--fingerprint HEX]

BUNDLE is the ZIP bundle or the folder it was unpacked into. The check:

1. manifest.sig holds an Ed25519 signature over manifest.json (exactly those bytes, which are
   canonical JSON); the key is looked up by its fingerprint (SHA-256 of the raw public key) in
   the key list: --keys (the list published at the portal's /keys/ page, best), else the
   keys.json inside the bundle. --fingerprint pins the key you expect (as printed on the cover).
2. If the signature carries an RFC 3161 timestamp, the token must cover the signature and be
   signed by the certificate it carries: the report gives the time and the authority.
3. The bundle holds exactly the files the manifest lists (nothing missing, nothing added), each
   with the SHA-256 and size the manifest gives.
4. The evidence annex embedded in brief.pdf lists the same exhibits as the manifest.

Exit status 0 when everything holds, 1 otherwise; every failure names what changed.
This file imports nothing from the portal: it is shipped verbatim inside every bundle.
"""

import argparse
import base64
import hashlib
import io
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
# The two files that cannot list themselves: the manifest, and the signature over it.
UNLISTED = {MANIFEST, SIGNATURE}
ANNEX_ATTACHMENT = "exhibits.json"
CHUNK = 1024 * 1024


class VerificationError(Exception):
    """The bundle cannot be read far enough to check it."""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    checks: list = field(default_factory=list)
    signer: str = ""
    key_status: str = ""
    signed_at: str = ""
    time_source: str = ""
    files: int = 0
    pinned: bool = False  # the key was checked against a published list or a given fingerprint

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def summary(self) -> str:
        if not self.ok:
            problems = "; ".join(f"{c.name}: {c.detail}" for c in self.failures)
            return f"NOT VERIFIED: {problems}"
        when = f"{self.signed_at} ({self.time_source})" if self.signed_at else "an unknown time"
        text = (
            f"verified: signed by key {group(self.signer)} ({self.key_status}) at {when}; "
            f"{self.files} files; nothing missing or added"
        )
        if not self.pinned:
            text += (
                "\nNOTE: the key was taken from the bundle itself. Check that its fingerprint is "
                "listed on the portal's /keys/ page, or run again with --keys keys.json from there."
            )
        return text


def group(fingerprint: str) -> str:
    """A fingerprint as it is printed on the cover: groups of four hex digits."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


def canonical_json(data) -> bytes:
    """The one byte form that is signed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fingerprint_of(public_key) -> str:
    """SHA-256 (hex) of an Ed25519 public key's 32 raw bytes."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


# Reading a bundle: a ZIP file or a folder.


class Bundle:
    def __init__(self, path):
        self.path = Path(path)
        self.archive = None
        self.links = []
        if self.path.is_dir():
            found = list(self.path.rglob("*"))
            # A link could point outside the folder: it is reported, never followed.
            self.links = sorted(
                p.relative_to(self.path).as_posix() for p in found if p.is_symlink()
            )
            self.names = sorted(
                p.relative_to(self.path).as_posix()
                for p in found
                if p.is_file() and not p.is_symlink()
            )
        elif zipfile.is_zipfile(self.path):
            self.archive = zipfile.ZipFile(self.path)
            self.names = [i.filename for i in self.archive.infolist() if not i.is_dir()]
        else:
            raise VerificationError(f"{self.path} is neither a ZIP bundle nor a folder")

    def close(self):
        if self.archive is not None:
            self.archive.close()

    def open(self, name: str):
        if self.archive is not None:
            return self.archive.open(name)
        return (self.path / PurePosixPath(name)).open("rb")

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    def digest(self, name: str) -> tuple:
        digest, size = hashlib.sha256(), 0
        with self.open(name) as stream:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size


# The key list.


def load_keys(data: bytes, source: str) -> dict:
    """Fingerprint -> (public key, status) from a keys.json document."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        document = json.loads(data)
        entries = document["keys"]
    except (ValueError, KeyError, TypeError) as error:
        raise VerificationError(f"{source} is not a key list ({error})") from None
    keys = {}
    for entry in entries:
        key = load_pem_public_key(entry["public_key"].encode())
        if not isinstance(key, Ed25519PublicKey):
            raise VerificationError(f"{source}: key {entry.get('fingerprint')} is not Ed25519")
        actual = fingerprint_of(key)
        if actual != entry["fingerprint"]:
            raise VerificationError(
                f"{source}: key listed as {entry['fingerprint']} has fingerprint {actual}"
            )
        keys[actual] = (key, entry.get("status", ""))
    return keys


def load_authorities(data: bytes) -> set:
    """SHA-256s of the timestamp authorities' certificates a key list names (may be none)."""
    listed = json.loads(data).get("timestamp_authorities") or []
    return {str(f).replace(":", "").lower() for f in listed}


def read_key_list(location: str) -> bytes:
    """A key list from a file, or from the portal's https://.../keys.json."""
    if location.startswith("https://"):
        from urllib.request import urlopen

        # only https:// reaches here (checked above)
        with urlopen(location, timeout=30) as response:  # noqa: S310  # nosec B310
            return response.read()
    return Path(location).read_bytes()


# RFC 3161 timestamp tokens (asn1crypto parses, cryptography checks the TSA's signature).


def check_timestamp(token_der: bytes, signed: bytes) -> tuple:
    """
    Check that a TimeStampToken covers `signed` (the signature bytes) and is signed by the
    certificate it carries. Return (time, authority, the certificate's SHA-256); raise
    VerificationError otherwise.
    """
    from asn1crypto import cms, tsp
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        info = cms.ContentInfo.load(token_der)
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise VerificationError("the timestamp token does not hold a TSTInfo")
        tst_info = tsp.TSTInfo.load(bytes(encap["content"].contents))
        tst_bytes = bytes(encap["content"].contents)
    except (ValueError, TypeError, KeyError) as error:
        raise VerificationError(f"the timestamp token cannot be read ({error})") from None

    imprint = tst_info["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm not in ("sha256", "sha384", "sha512"):
        raise VerificationError(f"the timestamp uses {algorithm}, which is not accepted")
    if hashlib.new(algorithm, signed).digest() != imprint["hashed_message"].native:
        raise VerificationError("the timestamp was issued for other data than this signature")

    signer_info = signed_data["signer_infos"][0]
    certificates = [c.chosen for c in signed_data["certificates"] or []]
    sid = signer_info["sid"]
    tsa_cert = None
    for cert in certificates:
        if sid.name == "issuer_and_serial_number":
            if (
                cert.issuer == sid.chosen["issuer"]
                and cert.serial_number == sid.chosen["serial_number"].native
            ):
                tsa_cert = cert
        elif cert.key_identifier == sid.chosen.native:
            tsa_cert = cert
    if tsa_cert is None:
        raise VerificationError("the timestamp token does not carry its authority's certificate")

    signed_attrs = signer_info["signed_attrs"]
    digest_algorithm = signer_info["digest_algorithm"]["algorithm"].native
    message_digest = next(
        (a["values"][0].native for a in signed_attrs if a["type"].native == "message_digest"),
        None,
    )
    if message_digest != hashlib.new(digest_algorithm, tst_bytes).digest():
        raise VerificationError("the timestamp's content does not match its signature")

    certificate = x509.load_der_x509_certificate(tsa_cert.dump())
    public_key = certificate.public_key()
    to_check = signed_attrs.untag().dump(force=True)
    signature = signer_info["signature"].native
    hash_class = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
    chosen_hash = hash_class.get(digest_algorithm)
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and chosen_hash:
            if signer_info["signature_algorithm"].signature_algo == "rsassa_pss":
                pad = padding.PSS(mgf=padding.MGF1(chosen_hash()), salt_length=padding.PSS.AUTO)
            else:
                pad = padding.PKCS1v15()
            public_key.verify(signature, to_check, pad, chosen_hash())
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and chosen_hash:
            public_key.verify(signature, to_check, ec.ECDSA(chosen_hash()))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, to_check)
        else:
            raise VerificationError("the timestamp authority's key type is not supported")
    except InvalidSignature:
        raise VerificationError("the timestamp's signature is not valid") from None
    authority = certificate.subject.rfc4514_string()
    cert_fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    gen_time = tst_info["gen_time"].native.isoformat()
    return gen_time, f"RFC 3161 timestamp by {authority}", cert_fingerprint


# The evidence annex embedded in the PDF.


def annex_of(pdf: bytes) -> list:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    attached = reader.attachments.get(ANNEX_ATTACHMENT)
    if not attached:
        raise VerificationError(f"brief.pdf has no embedded {ANNEX_ATTACHMENT}")
    return json.loads(attached[0])["exhibits"]


def annex_entry(exhibit: dict) -> tuple:
    return (exhibit["number"], exhibit.get("sha256"), exhibit.get("file"))


# The whole check.


def verify(path, *, keys_file=None, fingerprint=None) -> Report:
    """Check a bundle (ZIP or folder); the report lists each check and what failed."""
    report = Report()
    bundle = Bundle(path)
    try:
        _verify(bundle, report, keys_file=keys_file, fingerprint=fingerprint)
    except VerificationError as error:
        report.add("bundle", False, str(error))
    finally:
        bundle.close()
    return report


def _verify(bundle: Bundle, report: Report, *, keys_file, fingerprint) -> None:
    from cryptography.exceptions import InvalidSignature

    counts = {}
    for name in bundle.names:
        counts[name] = counts.get(name, 0) + 1
    duplicated = sorted(n for n, c in counts.items() if c > 1)
    if duplicated:
        report.add("files", False, f"entries appear more than once: {', '.join(duplicated)}")
    for link in bundle.links:
        report.add(link, False, "a symbolic link, not a file of the bundle")
    for required in (MANIFEST, SIGNATURE):
        if required not in counts:
            raise VerificationError(f"{required} is missing")

    manifest_bytes = bundle.read(MANIFEST)
    try:
        manifest = json.loads(manifest_bytes)
        signature_doc = json.loads(bundle.read(SIGNATURE))
        signature = base64.b64decode(signature_doc["signature"], validate=True)
        signer = signature_doc["key"]
    except (ValueError, KeyError, TypeError) as error:
        raise VerificationError(f"manifest.json or manifest.sig cannot be read ({error})") from None

    # The key.
    if keys_file is not None:
        keys_source = f"the key list {keys_file}"
        key_list = read_key_list(str(keys_file))
        keys = load_keys(key_list, str(keys_file))
        report.pinned = True
    elif "keys.json" in counts:
        keys_source = "the bundle's own keys.json (compare with the portal's /keys/ page)"
        key_list = bundle.read("keys.json")
        keys = load_keys(key_list, "keys.json")
    else:
        raise VerificationError("no key list: pass --keys with the portal's published keys.json")
    report.signer = signer
    if fingerprint is not None:
        report.pinned = True
        wanted = fingerprint.replace(" ", "").replace(":", "").lower()
        if signer != wanted:
            report.add("key", False, f"signed by {signer}, expected {wanted}")
            return
    if signer not in keys:
        report.add("key", False, f"signing key {signer} is not in {keys_source}")
        return
    public_key, report.key_status = keys[signer]
    report.add("key", True, f"{signer} from {keys_source}")

    # The signature over the manifest's exact bytes.
    try:
        public_key.verify(signature, manifest_bytes)
    except InvalidSignature:
        report.add("manifest", False, "manifest.json was changed after it was signed")
        return
    if canonical_json(manifest) != manifest_bytes:
        report.add("manifest", False, "manifest.json is not in canonical form")
        return
    if manifest.get("signing_key") != signer:
        report.add("manifest", False, "manifest names another signing key than manifest.sig")
        return
    report.add("manifest", True, "signature valid")

    # Trusted time.
    token = signature_doc.get("timestamp")
    if token:
        authorities = load_authorities(key_list)
        try:
            report.signed_at, report.time_source, tsa = check_timestamp(
                base64.b64decode(token), signature
            )
            if authorities and tsa not in authorities:
                raise VerificationError(
                    f"the timestamp authority's certificate {tsa} is not in the key list"
                )
        except VerificationError as error:
            report.add("timestamp", False, str(error))
        else:
            report.add(
                "timestamp",
                True,
                f"{report.signed_at}, {report.time_source}, certificate SHA-256 {tsa}"
                + ("" if authorities else " (the key list names no authority to check it by)"),
            )
    else:
        report.signed_at = manifest.get("generated_at", "")
        report.time_source = "time stated by the portal, no timestamp authority"

    # The file set and every file.
    try:
        listed = {entry["path"]: entry for entry in manifest["files"]}
        brief = manifest["brief"]["file"]
        listed_exhibits = [annex_entry(e) for e in manifest["exhibits"]]
    except (KeyError, TypeError) as error:
        raise VerificationError(f"manifest.json lacks {error}") from None
    present = set(counts) - UNLISTED
    missing, added = sorted(set(listed) - present), sorted(present - set(listed))
    for name in missing:
        report.add(name, False, "missing from the bundle")
    for name in added:
        report.add(name, False, "added: not listed in the manifest")
    for name in sorted(set(listed) & present):
        entry = listed[name]
        actual, size = bundle.digest(name)
        if actual != entry["sha256"]:
            label = f"{name} (exhibit {entry['exhibit']})" if entry.get("exhibit") else name
            report.add(label, False, f"changed: SHA-256 {actual}, manifest {entry['sha256']}")
        elif size != entry["size"]:
            report.add(name, False, f"changed: {size} bytes, manifest {entry['size']}")
        else:
            report.add(name, True)
    report.files = len(listed)

    # The PDF's evidence annex against the manifest's exhibit list.
    if brief in present and brief not in missing:
        try:
            annex = [annex_entry(e) for e in annex_of(bundle.read(brief))]
        except VerificationError as error:
            report.add("annex", False, str(error))
        else:
            if annex == listed_exhibits:
                report.add("annex", True, f"{len(annex)} exhibits, as in the manifest")
            else:
                only_pdf = sorted({a[0] for a in set(annex) - set(listed_exhibits)})
                only_manifest = sorted({a[0] for a in set(listed_exhibits) - set(annex)})
                report.add(
                    "annex",
                    False,
                    "the PDF's evidence annex and the manifest disagree "
                    f"(only in the PDF: {', '.join(only_pdf) or '-'}; "
                    f"only in the manifest: {', '.join(only_manifest) or '-'})",
                )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="the bundle ZIP, or the folder it was unpacked into")
    parser.add_argument(
        "--keys", help="the portal's published key list: keys.json, or its https:// address"
    )
    parser.add_argument("--fingerprint", help="the signing key you expect (from the cover)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    try:
        report = verify(args.bundle, keys_file=args.keys, fingerprint=args.fingerprint)
    except VerificationError as error:
        print(f"NOT VERIFIED: {error}")  # noqa: T201
        return 1
    if not args.quiet:
        for check in report.checks:
            print(f"{'ok  ' if check.ok else 'FAIL'} {check.name} {check.detail}".rstrip())  # noqa: T201
    print(report.summary())  # noqa: T201
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
