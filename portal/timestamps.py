"""
RFC 3161 timestamps for audit checkpoints: ask a timestamp authority (AUDIT_TSA_URL) to sign
the SHA-256 of a checkpoint; its answer (a DER TimeStampResp) is kept beside the checkpoint as
`.tsr`, for `openssl ts -verify -data <payload> -in <file>.tsr -CAfile <the TSA's CA>`.

The request is small enough to encode here (no ASN.1 library); the answer is checked for a
granted status and for our hash and nonce, not for the authority's signature (openssl does that).
"""

import hashlib
import secrets
import urllib.request

SHA256_OID = bytes.fromhex("0609608648016503040201")  # OBJECT IDENTIFIER 2.16.840.1.101.3.4.2.1


class TimestampError(ValueError):
    pass


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        encoded = bytes([length])
    else:
        size = length.to_bytes((length.bit_length() + 7) // 8, "big")
        encoded = bytes([0x80 | len(size)]) + size
    return bytes([tag]) + encoded + content


def _integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _read(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at `offset`."""
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    return tag, offset, offset + length


def timestamp_request(digest: bytes, nonce: int) -> bytes:
    """A DER TimeStampReq (version 1, SHA-256 imprint, nonce, certReq true)."""
    algorithm = _der(0x30, SHA256_OID + b"\x05\x00")
    imprint = _der(0x30, algorithm + _der(0x04, digest))
    return _der(0x30, _integer(1) + imprint + _integer(nonce) + b"\x01\x01\xff")


def check_response(response: bytes, digest: bytes, nonce: int) -> None:
    """Refuse an answer that is not granted or does not carry our hash and nonce."""
    try:
        tag, start, end = _read(response, 0)
        status_tag, status_start, _status_end = _read(response, start)
        int_tag, int_start, int_end = _read(response, status_start)
    except IndexError as error:
        raise TimestampError("The timestamp authority's answer is not DER.") from error
    if (tag, status_tag, int_tag) != (0x30, 0x30, 0x02) or end != len(response):
        raise TimestampError("The timestamp authority's answer is not a TimeStampResp.")
    status = int.from_bytes(response[int_start:int_end], "big")
    if status not in (0, 1):  # granted, grantedWithMods
        raise TimestampError(f"The timestamp authority refused (status {status}).")
    if _der(0x04, digest) not in response or _integer(nonce) not in response:
        raise TimestampError("The timestamp token is not for this checkpoint.")


def request_token(url: str, payload: bytes, timeout: float = 30) -> bytes:
    digest = hashlib.sha256(payload).digest()
    nonce = secrets.randbits(63)
    request = urllib.request.Request(  # noqa: S310 - the operator's configured https/http URL
        url,
        data=timestamp_request(digest, nonce),
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    if not url.startswith(("https://", "http://")):
        raise TimestampError("AUDIT_TSA_URL must be an http(s) URL.")
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310  # nosec B310: scheme checked above
        response = answer.read()
    check_response(response, digest, nonce)
    return response
