#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018  (loads the settings, which refuse bad ones)
    except ImproperlyConfigured as error:
        # Django would go on without its apps and fail later with "Models aren't loaded yet",
        # hiding the reason: say it, and stop.
        sys.exit(f"manage.py: the settings are refused: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
