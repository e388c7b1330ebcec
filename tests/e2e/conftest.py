"""
End-to-end: the real portal (gunicorn) and a real Celery worker, each a process of its own,
driven by Debian's Chromium through Playwright, as the people who use it would.

The portal under test has its own throw-away database (a fresh PostgreSQL database when
DATABASE_URL names a PostgreSQL server, else an SQLite file), its own data folder and its own
broker (a Redis database of its own when REDIS_URL is set, else the filesystem broker). The test
process never touches that database: everything goes through HTTP, like a user, except the
`verify_brief` command an official would run on a downloaded bundle.

Screenshots of the key pages are kept in E2E_ARTIFACTS (default var/e2e-artifacts).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest
from cryptography.fernet import Fernet
from django_otp.oath import TOTP
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ROOT / "var" / "e2e-artifacts"))
REQUIRED = os.environ.get("PORTAL_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}
# The flags this machine's closed network needs (no calls home, no component updates).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.e2e


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not path:
        message = "Debian's chromium is not installed (make system-deps-test installs it)"
        if REQUIRED:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database(tmp: Path) -> tuple[str, callable]:
    """A fresh database for the portal under test, and how to drop it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp / 'portal.sqlite3'}", lambda: None
    import psycopg

    parts = urlsplit(url)
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    admin = parts._replace(path="/postgres").geturl().replace("postgresql://", "postgres://", 1)
    admin = admin.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def _broker() -> dict:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return {"REDIS_URL": "", "CELERY_BROKER_URL": "", "CELERY_RESULT_BACKEND": ""}
    import redis

    own = urlsplit(url)._replace(path="/15").geturl()  # a Redis database of its own
    redis.Redis.from_url(own).flushdb()
    return {"REDIS_URL": own, "CELERY_BROKER_URL": own, "CELERY_RESULT_BACKEND": own}


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 in {timeout} s:\n{log.read_text()[-4000:]}")


class Portal:
    """The portal under test: its address, its environment and its people."""

    def __init__(self, url: str, env: dict, world: dict, logs: Path, mail: Path):
        self.url, self.env, self.world, self.logs, self.mail = url, env, world, logs, mail
        self.password = world["password"]
        self._last_step: dict[str, int] = {}

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def mails_to(self, address: str) -> list[str]:
        """The messages sent to `address` so far (the portal writes each to a file)."""
        if not self.mail.exists():
            return []
        texts = [path.read_text() for path in sorted(self.mail.iterdir())]
        return [text for text in texts if f"To: {address}" in text]

    def totp(self, email: str) -> str:
        """A fresh code from the user's authenticator (a code is accepted once only)."""
        totp = TOTP(bytes.fromhex(self.world["keys"][email]))
        while totp.t() <= self._last_step.get(email, -1):
            time.sleep(0.5)
            totp = TOTP(bytes.fromhex(self.world["keys"][email]))
        self._last_step[email] = totp.t()
        return f"{totp.token():06d}"


@pytest.fixture(scope="session")
def portal(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("portal")
    logs = ARTIFACTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    database_url, drop_database = _database(tmp)
    env = {
        **os.environ,
        **_broker(),
        "DATABASE_URL": database_url,
        "PORTAL_DATA_DIR": str(tmp / "data"),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        # Static files as in production: collected, hashed and compressed (gzip, brotli).
        "WHITENOISE_USE_FINDERS": "false",
        "DJANGO_STATICFILES_STORAGE": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"filemail:///{tmp / 'mail'}",  # an absolute path: four slashes
        "PYTHONUNBUFFERED": "1",
    }
    for command in (["migrate", "--no-input"], ["collectstatic", "--no-input", "-v0"]):
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *command],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    seeded = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c",
         "from tests.e2e.world import build; build()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    world = json.loads(seeded.stdout.strip().splitlines()[-1])

    port = _free_port()
    processes = []
    web_log, worker_log = logs / "gunicorn.log", logs / "worker.log"
    with web_log.open("w") as web_out, worker_log.open("w") as worker_out:
        web = subprocess.Popen(  # noqa: S603
            [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4", "--timeout", "120"],
            cwd=ROOT, env=env, stdout=web_out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(web)
        worker = subprocess.Popen(  # noqa: S603
            [str(BIN / "celery"), "--app", "portal", "worker", "--loglevel", "INFO",
             "--queues", "default,evidence,briefs,designations", "--concurrency", "2",
             "--hostname", f"e2e-{port}@%h"],
            cwd=ROOT, env=env, stdout=worker_out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(worker)
        try:
            _wait_for(f"http://127.0.0.1:{port}/healthz", web, web_log)
            yield Portal(f"http://127.0.0.1:{port}", env, world, logs, tmp / "mail")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            drop_database()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh, empty profile folder of its own.
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, portal):
    """Open a page in a fresh browser context (its own cookies): one person, one browser."""
    contexts = []

    def open_page(locale: str = "en-GB", **options):
        context = browser.new_context(
            base_url=portal.url, locale=locale, accept_downloads=True, **options
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and "Content Security Policy" in message.text
                and problems.append(f"CSP: {message.text}")
            ),
        )
        return page

    problems: list[str] = []
    yield open_page
    for context in contexts:
        context.close()
    assert problems == [], problems


class Shots:
    """Numbered full-page screenshots of a journey, kept as test artifacts."""

    def __init__(self, journey: str):
        self.folder = ARTIFACTS / journey
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def __call__(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    def japanese(self, page, name: str, url: str | None = None) -> Path:
        """The same page read in Japanese (the language cookie), then English again."""
        url = urljoin(page.url, url or page.url).split("#")[0]  # a full load, not a scroll
        site = urljoin(url, "/")  # the cookie the language switcher sets: for the whole site
        page.context.add_cookies([{"name": "django_language", "value": "ja", "url": site}])
        try:
            page.goto(url)
            page.reload()
            expect(page.locator("html")).to_have_attribute("lang", "ja")
            return self(page, f"{name}-ja")
        finally:
            page.context.add_cookies([{"name": "django_language", "value": "en", "url": site}])
            page.goto(url)


@pytest.fixture
def shots(request):
    return Shots(request.node.name.removeprefix("test_"))
