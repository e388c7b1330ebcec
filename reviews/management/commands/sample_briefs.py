import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from portal.models import Organisation
from reviews import packages, sample_case
from reviews.models import BriefVersion


class Command(BaseCommand):
    help = (
        "Build the made-up sample case (three NGOs, two persons and one organisation, a witness "
        "who consents to the UK only) through the services, and render its briefs for "
        "US-GLOMAG, GB-HR, EU-HR and AU-HUMAN into docs/sample-briefs/<REGIME>/ (brief.pdf, "
        "manifest.json, bundle.zip). Run it on an empty database: `make sample-briefs` does."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", default=str(Path(settings.BASE_DIR) / "docs" / "sample-briefs")
        )

    def handle(self, *args, output, **options):
        if Organisation.objects.filter(slug__startswith="sample-").exists():
            raise CommandError("The sample case exists already: use an empty database.")
        with translation.override("en"):
            case = sample_case.build()
            sample_case.make_packages(case)
            for key, package in case.packages.items():
                version = packages.request_render(package, by=case.lead)
                version.refresh_from_db()
                if version.status != BriefVersion.Status.DONE:  # no eager worker here
                    packages.render_version(version)
                    version.refresh_from_db()
                if version.status != BriefVersion.Status.DONE:
                    raise CommandError(f"{key}: {version.error}")
                target = Path(output) / key
                target.mkdir(parents=True, exist_ok=True)
                for field, name in (("pdf", "brief.pdf"), ("manifest", "manifest.json"),
                                    ("bundle", "bundle.zip")):  # fmt: skip
                    with (
                        getattr(version, field).open("rb") as source,
                        (target / name).open("wb") as out,
                    ):
                        shutil.copyfileobj(source, out)
                self.stdout.write(
                    f"{key}: {version.pages} pages, {version.exhibits} exhibits, "
                    f"{version.withheld} withheld -> {target}"
                )
