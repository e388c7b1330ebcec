from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")

    def ready(self):
        # The name keys that matching looks persons and subjects up by are derived data, kept in
        # step with every save (like a search index) by receivers in reviews.matching: load them
        # in every process, not only where the admin happens to be imported.
        from . import admin_filters, matching  # noqa: F401

        admin_filters.connect()
