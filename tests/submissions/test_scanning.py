import io
import socketserver
import struct
import threading

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from submissions import scanning, services
from submissions.models import Evidence
from submissions.uploads import uploaded_from_bytes
from tests.factories import DossierFactory
from tests.submissions import hostile
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
    package = hostile.docx({"word/vbaProject.bin": hostile.ole_with_vba_project()})
    evidence = add(dossier, alice, package, "letter.docx", django_capture_on_commit_callbacks)
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


# Hostile exhibits (issue #18): actions hidden behind #xx escapes, macros under other names


def scanned(content: bytes, content_type: str) -> str:
    from django.core.files.base import ContentFile

    class Stored(ContentFile):
        def open(self, mode=None):
            self.seek(0)
            return self

    return scanning.scan(Stored(content, name="exhibit"), content_type)


def test_a_pdf_that_opens_a_web_address_is_flagged(
    dossier, alice, django_capture_on_commit_callbacks
):
    evidence = add(
        dossier,
        alice,
        hostile.pdf_with_open_action(),
        "ruling.pdf",
        django_capture_on_commit_callbacks,
    )
    assert evidence.malware_warning == "PDF with active content: OpenAction (URI)"


@pytest.mark.parametrize(
    ("action", "escapes", "expected"),
    [
        ("/URI", {"OpenAction": "Op#65nAction", "URI": "U#52I"}, "OpenAction (URI)"),
        (
            "/JavaScript",
            {"OpenAction": "Op#65nAction", "JavaScript": "J#61vaScript", "JS": "J#53"},
            "JS, JavaScript, OpenAction (JavaScript)",
        ),
    ],
)
def test_hex_escaped_pdf_names_are_decoded_before_matching(action, escapes, expected):
    pdf = hostile.escape_names(hostile.pdf_with_open_action(action, "app.alert(1)"), **escapes)
    assert not any(f"/{plain}".encode() in pdf for plain in escapes)
    assert scanned(pdf, "application/pdf") == f"PDF with active content: {expected}"


def test_an_escaped_launch_action_outside_the_cross_reference_table_is_found_in_the_bytes():
    pdf = hostile.pdf_with_open_action().replace(
        b"\nxref", b"\n9 0 obj<</S/L#61unch/F(cmd.exe)>>endobj\nxref", 1
    )
    assert b"/Launch" not in pdf
    assert "Launch" in scanned(pdf, "application/pdf")


def test_a_link_a_reader_clicks_is_not_active_content_but_a_page_jump_on_opening_neither():
    from pypdf import PdfWriter
    from pypdf.annotations import Link
    from pypdf.generic import ArrayObject, NameObject, NumberObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    writer.add_annotation(0, Link(rect=(50, 50, 200, 80), url="https://news.example/report"))
    writer._root_object[NameObject("/OpenAction")] = ArrayObject(
        [page.indirect_reference, NameObject("/Fit")]
    )
    writer._root_object[NameObject("/PageMode")] = NameObject("/UseNone")
    assert NumberObject  # (imported for the array's page number form)
    out = io.BytesIO()
    writer.write(out)
    assert scanned(out.getvalue(), "application/pdf") == ""


def test_a_file_that_is_not_a_readable_pdf_is_not_called_clean():
    assert "could not be parsed" in scanned(b"%PDF-1.7\n" + b"\x00garbage" * 50, "application/pdf")


def test_a_macro_project_renamed_inside_a_word_package_is_found_by_its_content():
    package = hostile.docx({"word/media/image7.png": hostile.ole_with_vba_project()})
    assert b"vbaProject" not in package
    ooxml = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert scanned(package, ooxml) == "Office document with macros"
    assert scanned(hostile.docx({}), ooxml) == ""


def test_a_legacy_word_file_with_a_macro_project_is_flagged():
    assert scanned(hostile.ole_with_vba_project(), "application/msword") == (
        "Office document with macros"
    )


def test_an_office_package_that_would_expand_out_of_proportion_is_not_opened():
    bomb = hostile.docx({"word/media/zeros.bin": b"\0" * (50 * 1024 * 1024)})
    ooxml = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert scanned(bomb, ooxml) == "Office document that expands too much to be checked"
