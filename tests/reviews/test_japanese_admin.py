"""The review site in Japanese: column headers and checklist data."""

from django.conf import settings
from django.urls import reverse

from reviews.models import BriefVersion


def test_the_brief_versions_columns_are_in_japanese(client, package, lena):
    BriefVersion.objects.create(package=package, number=1, requested_by=lena)
    client.force_login(lena)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    page = client.get(reverse("admin:reviews_package_change", args=[package.pk])).text
    for header in ["番号", "進捗", "ページ数", "証拠資料", "生成日時", "意見書の版"]:
        assert header in page, header
    assert "英国 グローバル人権制裁" in page  # the package's regime, in the regime field


def test_the_dossier_page_of_the_review_site_shows_japanese_checklist_data(client, in_review, rita):
    """Rita reviews the dossier: the rubric of her review form is in Japanese too."""
    client.force_login(rita)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    page = client.get(reverse("admin:submissions_dossier_change", args=[in_review.pk])).text
    assert "英国 グローバル人権制裁" in page
    assert "対象者の特定" in page  # a rubric line
