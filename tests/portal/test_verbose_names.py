"""Admin column headers, filters and model names read in Japanese too (portal.verbose_names)."""

from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise

from portal.verbose_names import APPS, NAMES, derived_names
from reviews.models import BriefVersion


def test_every_name_django_derives_is_translatable():
    """A new field or model without a verbose_name fails here until its derived name is in
    portal.verbose_names.NAMES (and translated)."""
    untranslatable = []
    for model in apps.get_models():
        opts = model._meta
        if opts.app_label not in APPS or model.__module__.startswith("tests."):
            continue  # a test's own throw-away model (e.g. test_crypto's probe) is no one's page
        for kind, field in derived_names(model):
            if kind == "field":
                name = field.verbose_name
            elif kind == "model":
                name = opts.verbose_name
            else:
                name = opts.verbose_name_plural
            if str(name) not in NAMES or not isinstance(name, Promise):
                untranslatable.append(f"{opts.label} {kind} {name}")
    assert untranslatable == []


def test_the_brief_versions_columns_read_in_japanese():
    with translation.override("ja"):
        columns = ("number", "status", "progress", "pages", "exhibits", "rendered_at")
        headers = [str(BriefVersion._meta.get_field(name).verbose_name) for name in columns]
        assert headers == ["番号", "ステータス", "進捗", "ページ数", "証拠資料", "生成日時"]
        assert str(BriefVersion._meta.verbose_name_plural) == "意見書の版"
    assert str(BriefVersion._meta.get_field("rendered_at").verbose_name) == "rendered at"
