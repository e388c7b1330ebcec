"""
Keeping the reporter's traces out of logs.

ForgetReporterFilter removes the request from log records about intake pages, so that no
handler (an error e-mail to ADMINS, a log formatter) can write down the reporter's address or
browser. The web server's access log is handled by `intake.gunicorn.AccessLogger`.
"""

import logging

PREFIX = "/report/"


def is_intake_path(path: str) -> bool:
    return path == PREFIX.rstrip("/") or path.startswith(PREFIX)


class ForgetReporterFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", "") or ""
        if request is not None and is_intake_path(path):
            record.request = None  # the message itself names only the path
        return True
