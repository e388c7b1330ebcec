"""
Seed demo statistics, serve the portal on a local port, and take the README's pictures: the
transparency page (Playwright, Debian's Chromium) and a page of an oversight report (pdftoppm).
"""

import shutil
import subprocess  # runs pdftoppm with fixed arguments  # nosec B404
import tempfile
import threading
from datetime import date
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.wsgi import get_wsgi_application

from portal.models import User
from submissions.models import Regime
from transparency import demo, report, services
from transparency.models import OversightReport

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the parent's signature
        return


class Command(BaseCommand):
    help = "Take docs/screenshots/transparency.png and oversight-report.png (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=str(settings.BASE_DIR / "docs" / "screenshots"))
        parser.add_argument("--until", default="2026-10-31")
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, out, until, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("This seeds invented data: run it with DJANGO_DEBUG=true.")
        until = date.fromisoformat(until)
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"Demo dossiers: {demo.seed(until)}")
        snapshot = services.compute_snapshot(until=until)
        self._page(out / "transparency.png")
        regime = Regime.objects.get(key="GB-HR")
        author = User.objects.get(email="statistics-demo@demo.example")
        unsaved = OversightReport(regime=regime, year=2025, language="en", snapshot=snapshot,
                                  requested_by=author)  # fmt: skip
        pdf = report.render_pdf(report.assemble(unsaved))
        self._pdf_page(pdf, 3, out / "oversight-report.png")
        self.stdout.write(self.style.SUCCESS(f"Screenshots written to {out}"))

    def _page(self, target: Path) -> None:
        from playwright.sync_api import sync_playwright

        server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_port}/transparency/"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                    args=CHROMIUM_ARGS,
                )
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(url, wait_until="networkidle")
                page.screenshot(path=str(target), full_page=False)
                browser.close()
        finally:
            server.shutdown()

    def _pdf_page(self, pdf: bytes, number: int, target: Path) -> None:
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "report.pdf"
            source.write_bytes(pdf)
            stem = Path(folder) / "page"
            subprocess.run(  # noqa: S603 - fixed arguments, our own file  # nosec B603 B607
                ["pdftoppm",  # noqa: S607 - found on PATH like any tool the Makefile installs "-png", "-r", "90", "-f", str(number), "-l", str(number),
                 "-singlefile", str(source), str(stem)],
                check=True,
            )  # fmt: skip
            shutil.copyfile(f"{stem}.png", target)
