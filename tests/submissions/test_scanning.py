import io
import socketserver
import struct
import threading
import zipfile

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from submissions import services
from submissions.models import Evidence
from submissions.uploads import uploaded_from_bytes
from tests.factories import DossierFactory
from tests.submissions.test_evidence import PDF

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class FakeClamd(socketserver.BaseRequestHandler):
    """Speaks clamd's INSTREAM protocol; finds EICAR like the real one."""

    def handle(self):
        command = b""
        while not command.endswith(b"\0"):
            command += self.request.recv(1)
        assert command == b"zINSTREAM\0"
        data = b""
        while True:
            (length,) = struct.unpack("!L", self._exactly(4))
            if length == 0:
                break
            data += self._exactly(length)
        found = b"Eicar-Test-Signature FOUND" if EICAR in data else b"OK"
        self.request.sendall(b"stream: " + found + b"\0")

    def _exactly(self, size):
        out = b""
        while len(out) < size:
            out += self.request.recv(size - len(out))
        return out


@pytest.fixture
def clamd(settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FakeClamd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.CLAMD_ADDRESS = f"127.0.0.1:{server.server_address[1]}"
    yield
    server.shutdown()
    server.server_close()


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


def add(dossier, alice, content: bytes, name: str, callbacks) -> Evidence:
    with callbacks(execute=True):
        evidence = services.attach_evidence_file(
            dossier, by=alice, upload=uploaded_from_bytes(content, name), details={}
        )
    return Evidence.objects.get(pk=evidence.pk)


def test_clamav_flags_a_virus_which_is_kept_as_evidence(
    clamd, dossier, alice, django_capture_on_commit_callbacks
):
    evidence = add(dossier, alice, EICAR, "eicar.txt", django_capture_on_commit_callbacks)
    assert evidence.malware_warning == "ClamAV: Eicar-Test-Signature"
    assert evidence.file  # kept: it is still evidence
    assert AuditEvent.objects.filter(action="evidence.flagged").exists()

    clean = add(dossier, alice, PDF, "ruling.pdf", django_capture_on_commit_callbacks)
    assert clean.scanned_at and clean.malware_warning == ""


def test_a_pdf_with_javascript_is_flagged_without_clamav(
    dossier, alice, django_capture_on_commit_callbacks
):
    hostile = PDF.replace(b"%%EOF", b"1 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n%%EOF")
    evidence = add(dossier, alice, hostile, "invoice.pdf", django_capture_on_commit_callbacks)
    assert evidence.malware_warning.startswith("PDF with active content: JS, JavaScript")


def test_an_office_document_with_macros_is_flagged(
    dossier, alice, django_capture_on_commit_callbacks
):
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as docx:
        docx.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        docx.writestr("word/document.xml", "<w:document/>")
        docx.writestr("word/vbaProject.bin", b"\x00" * 64)
    evidence = add(
        dossier, alice, package.getvalue(), "letter.docx", django_capture_on_commit_callbacks
    )
    if evidence.content_type not in {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    }:
        pytest.skip(f"libmagic here reads this package as {evidence.content_type}")
    assert evidence.malware_warning == "Office document with macros"


def test_a_flagged_file_is_downloaded_only_after_a_warning_and_each_copy_is_audited(
    client, clamd, dossier, alice, django_capture_on_commit_callbacks
):
    evidence = add(dossier, alice, EICAR, "eicar.txt", django_capture_on_commit_callbacks)
    client.force_login(alice)
    url = reverse("submissions:evidence-download", args=[dossier.reference, evidence.pk])

    warning = client.get(url)
    assert warning.status_code == 200 and "may be harmful" in warning.text
    assert not AuditEvent.objects.filter(action="evidence.downloaded").exists()

    response = client.get(url + "?confirm=1")
    assert b"".join(response.streaming_content) == EICAR
    assert AuditEvent.objects.filter(action="evidence.downloaded", actor=alice).count() == 1
