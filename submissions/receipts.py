"""The submission receipt: what was submitted, when, and every exhibit's SHA-256."""

from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher

from portal import pdf_text

from .models import Dossier


def context(dossier: Dossier) -> dict:
    return {
        "dossier": dossier,
        "regimes": list(dossier.target_regimes.all()),
        "exhibits": list(
            dossier.evidence.order_by("number", "pk").only(
                "pk", "dossier_id", "reference", "kind", "original_name", "url", "size", "sha256"
            )
        ),
    }


def render_pdf(dossier: Dossier, request=None) -> bytes:
    html = render_to_string("submissions/receipt_pdf.html", context(dossier), request=request)
    # Inline data only: a receipt never fetches anything, from the network or the disk.
    fetcher = URLFetcher(allowed_protocols={"data"})
    pdf_text.install()  # names in complex scripts copy out as typed
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
