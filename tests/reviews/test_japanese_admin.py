"""The review site in Japanese: column headers and checklist data."""

import re

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


def _dates(page: str) -> dict[str, set[str]]:
    """The dates a reader sees on a page (not in attributes), by the shape they take."""
    text = re.sub(r"<[^>]*>", " ", page)
    return {
        "iso": set(re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text)),
        "japanese": set(re.findall(r"\d{4}年\d{1,2}月\d{1,2}日", text)),
        "slashes": set(re.findall(r"\b\d{1,4}/\d{1,2}/\d{2,4}\b", text)),
    }


def test_a_japanese_screen_shows_dates_one_way(client, in_review, rita, alice):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    client.force_login(rita)
    review_page = client.get(reverse("admin:submissions_dossier_change", args=[in_review.pk]))
    client.force_login(alice)
    member_page = client.get(in_review.get_absolute_url())
    for page in (review_page.text, member_page.text):
        dates = _dates(page)
        assert dates["japanese"], "the page shows dates"
        assert dates["iso"] == set() and dates["slashes"] == set(), dates
