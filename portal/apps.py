from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal: people and audit")

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
        from .verbose_names import translate_derived_names

        translate_derived_names()
