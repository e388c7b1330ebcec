"""RFC 3161 timestamps of audit checkpoints, against a tiny local timestamp authority."""

import hashlib
import http.server
import json
import threading

import pytest

from portal import audit, timestamps


class FakeAuthority(http.server.BaseHTTPRequestHandler):
    """Answers a TimeStampReq with a TimeStampResp whose status is `status` (0: granted)."""

    status = 0
    requests: list[bytes] = []

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append(body)
        assert self.headers["Content-Type"] == "application/timestamp-query"
        # The token stands in for a signed TSTInfo: it echoes the imprint and the nonce.
        _tag, start, _end = timestamps._read(body, 0)
        _t, _s, version_end = timestamps._read(body, start)
        _t, _s, imprint_end = timestamps._read(body, version_end)
        _t, _s, nonce_end = timestamps._read(body, imprint_end)
        token = timestamps._der(0x30, body[version_end:nonce_end])
        status = timestamps._der(0x30, timestamps._integer(type(self).status))
        answer = timestamps._der(0x30, status + (token if type(self).status == 0 else b""))
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def authority(settings):
    server = http.server.HTTPServer(("127.0.0.1", 0), FakeAuthority)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeAuthority.status, FakeAuthority.requests = 0, []
    settings.AUDIT_TSA_URL = f"http://127.0.0.1:{server.server_port}/tsa"
    yield FakeAuthority
    server.shutdown()
    server.server_close()


def test_a_checkpoint_gets_a_timestamp_token_beside_it(alice, authority):
    audit.record(actor=alice, action="test.done")
    checkpoint = audit.write_checkpoint()
    storage = audit.anchor_storage()
    with storage.open(checkpoint.name) as handle:
        content = json.loads(handle.read())
    body = {k: content[k] for k in ("format", "sequence", "hash", "count", "created_at", "key_id")}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(payload).digest()

    (request,) = authority.requests
    assert timestamps._der(0x04, digest) in request  # the authority signs the checkpoint's hash
    with storage.open(checkpoint.name.replace(".json", ".tsr")) as handle:
        assert timestamps._der(0x04, digest) in handle.read()
    assert audit.verify_chain().ok  # a .tsr beside the checkpoints is not a checkpoint


def test_a_refusing_authority_leaves_the_checkpoint_without_a_token(alice, authority):
    authority.status = 2  # rejection
    audit.record(actor=alice, action="test.done")
    checkpoint = audit.write_checkpoint()
    storage = audit.anchor_storage()
    assert storage.exists(checkpoint.name)
    assert not storage.exists(checkpoint.name.replace(".json", ".tsr"))


def test_an_answer_for_another_hash_is_refused():
    digest = hashlib.sha256(b"checkpoint").digest()
    other = timestamps._der(0x30, timestamps._der(0x04, hashlib.sha256(b"other").digest()))
    answer = timestamps._der(0x30, timestamps._der(0x30, timestamps._integer(0)) + other)
    with pytest.raises(timestamps.TimestampError, match="not for this checkpoint"):
        timestamps.check_response(answer, digest, 7)
    with pytest.raises(timestamps.TimestampError, match="not DER|not a TimeStampResp"):
        timestamps.check_response(b"\x30\x05garbage", digest, 7)


def test_the_request_is_a_valid_der_timestamp_query():
    """openssl ts -query -text reads it (when openssl is installed)."""
    import shutil
    import subprocess

    request = timestamps.timestamp_request(hashlib.sha256(b"x").digest(), 12345)
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    shown = subprocess.run(
        ["openssl", "ts", "-query", "-in", "/dev/stdin", "-text"],
        input=request,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert "sha256" in shown and "0x3039" in shown and "Certificate required: yes" in shown
