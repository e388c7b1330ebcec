"""
The portal's brief-signing keys: an Ed25519 key signs each manifest (manifest.sig) and, through
an X.509 certificate for the same key, each brief PDF (PAdES). Keys come from settings
(PORTAL_SIGNING_KEY or PORTAL_SIGNING_KEY_FILE: PEMs, newest first), never from the database;
every public key ever configured is published at /keys/ and inside each bundle (keys.json).
RFC 3161 timestamps come from PORTAL_TSA_URL when it is set.
"""

import asyncio
import base64
import datetime
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .verifier.verify import canonical_json, fingerprint_of, group

VERIFIER_DIR = Path(__file__).resolve().parent / "verifier"
KEYS_FORMAT = "magnitsky-portal-keys/1"
SIGNATURE_FORMAT = "magnitsky-portal-signature/1"
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----(.+?)-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class PublicKey:
    key: Ed25519PublicKey
    status: str  # "current" (signs now), "previous" (configured, not signing), "retired"

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.key)

    @property
    def grouped(self) -> str:
        return group(self.fingerprint)

    @property
    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


def _pem_blocks(text: str) -> list[str]:
    """
    The PEM blocks in `text`, re-wrapped: an environment variable may hold a key on one line
    ("-----BEGIN PRIVATE KEY----- MC4C... -----END PRIVATE KEY-----").
    """
    blocks = []
    for match in PEM_BLOCK.finditer(text):
        label, body = match.group(1), re.sub(r"\s+", "", match.group(2))
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        blocks.append("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----\n"]))
    return blocks


@cache
def _configured(keys_pem: str, retired_file: str) -> tuple:
    private = []
    for block in _pem_blocks(keys_pem):
        key = serialization.load_pem_private_key(block.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("PORTAL_SIGNING_KEY must hold Ed25519 private keys.")
        private.append(key)
    if not private:
        raise ImproperlyConfigured("PORTAL_SIGNING_KEY holds no PEM private key.")
    retired = []
    if retired_file:
        for block in _pem_blocks(Path(retired_file).read_text()):
            key = serialization.load_pem_public_key(block.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ImproperlyConfigured("Retired signing keys must be Ed25519 public keys.")
            retired.append(key)
    return tuple(private), tuple(retired)


def signing_key() -> Ed25519PrivateKey:
    """The key that signs now: the first one configured."""
    private, _retired = _configured(
        settings.PORTAL_SIGNING_KEYS, settings.PORTAL_RETIRED_SIGNING_KEYS_FILE
    )
    return private[0]


def current_fingerprint() -> str:
    return fingerprint_of(signing_key().public_key())


def public_keys() -> list[PublicKey]:
    """Every public key the portal has signed with, newest first (duplicates dropped)."""
    private, retired = _configured(
        settings.PORTAL_SIGNING_KEYS, settings.PORTAL_RETIRED_SIGNING_KEYS_FILE
    )
    found = [
        PublicKey(k.public_key(), "current" if i == 0 else "previous")
        for i, k in enumerate(private)
    ] + [PublicKey(k, "retired") for k in retired]
    unique = {}
    for key in found:
        unique.setdefault(key.fingerprint, key)
    return list(unique.values())


def keys_document() -> dict:
    """keys.json: what /keys/ publishes and each bundle carries."""
    return {
        "format": KEYS_FORMAT,
        "algorithm": "Ed25519",
        "fingerprint": "SHA-256 of the 32-byte raw public key, hex",
        "keys": [
            {
                "fingerprint": k.fingerprint,
                "algorithm": "Ed25519",
                "status": k.status,
                "public_key": k.pem,
            }
            for k in public_keys()
        ],
        # The timestamp authorities whose tokens count (SHA-256 of their certificates).
        "timestamp_authorities": [
            f.strip().replace(":", "").lower() for f in settings.PORTAL_TSA_CERT_SHA256 if f.strip()
        ],
    }


def keys_json() -> bytes:
    return canonical_json(keys_document())


def verifier_files() -> dict[str, bytes]:
    """The standalone verifier, as shipped in each bundle and served by the portal."""
    return {
        "verify.py": (VERIFIER_DIR / "verify.py").read_bytes(),
        "requirements-verify.txt": (VERIFIER_DIR / "requirements-verify.txt").read_bytes(),
    }


# RFC 3161


def timestamper():
    """A client for the configured timestamp authority, or None when there is none."""
    if not settings.PORTAL_TSA_URL:
        return None
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    return RequestsHTTPTimeStamper(settings.PORTAL_TSA_URL, timeout=settings.PORTAL_TSA_TIMEOUT)


def timestamp_token(data: bytes) -> bytes | None:
    """A DER TimeStampToken over SHA-256(data), or None when no authority is configured."""
    client = timestamper()
    if client is None:
        return None
    digest = hashlib.sha256(data).digest()
    token = asyncio.run(client.async_timestamp(digest, "sha256"))
    return token.dump()


# The manifest signature


def sign_manifest(manifest_bytes: bytes) -> bytes:
    """manifest.sig: the Ed25519 signature over the exact manifest bytes, and its timestamp."""
    key = signing_key()
    signature = key.sign(manifest_bytes)
    token = timestamp_token(signature)
    return canonical_json(
        {
            "format": SIGNATURE_FORMAT,
            "algorithm": "Ed25519",
            "key": fingerprint_of(key.public_key()),
            "signature": base64.b64encode(signature).decode(),
            "timestamp": base64.b64encode(token).decode() if token else None,
        }
    )


# The PDF signature (PAdES, pyHanko)


def certificate() -> x509.Certificate:
    """The X.509 certificate of the signing key: from PORTAL_SIGNING_CERT_FILE, or self-signed."""
    key = signing_key()
    if settings.PORTAL_SIGNING_CERT_FILE:
        cert = x509.load_pem_x509_certificate(Path(settings.PORTAL_SIGNING_CERT_FILE).read_bytes())
        if fingerprint_of(cert.public_key()) != fingerprint_of(key.public_key()):
            raise ImproperlyConfigured(
                "PORTAL_SIGNING_CERT_FILE is not a certificate for the first signing key."
            )
        return cert
    return _self_signed(key)


def _self_signed(key: Ed25519PrivateKey) -> x509.Certificate:
    # Ed25519 signatures are deterministic, and so is everything below: the same key always
    # gives the same certificate, whichever worker renders.
    fingerprint = fingerprint_of(key.public_key())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Evidence portal"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Brief signing key {fingerprint[:16]}"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int(fingerprint[:30], 16))
        .not_valid_before(datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(datetime.datetime(2099, 12, 31, tzinfo=datetime.UTC))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, None)
    )


def certificate_pem() -> bytes:
    return certificate().public_bytes(serialization.Encoding.PEM)


def certificate_sha256() -> str:
    return certificate().fingerprint(hashes.SHA256()).hex()


def sign_pdf(pdf: bytes, *, reason: str, location: str = "") -> bytes:
    """Sign the PDF (PAdES B-B, or B-T with a timestamp authority) with the signing key."""
    import io

    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    key = signing_key()
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(
            certificate().public_bytes(serialization.Encoding.DER)
        ),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=None,
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="PortalSignature",
        reason=reason,
        location=location or None,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha512",  # Ed25519 in CMS goes with SHA-512 (RFC 8419)
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = signers.PdfSigner(metadata, signer=signer, timestamper=timestamper()).sign_pdf(writer)
    return out.getvalue()
