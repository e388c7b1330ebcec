"""
Files from reporters: the dossier upload machinery (submissions/uploads.py: streamed, hashed
in the same pass, type decided by libmagic from the bytes) with the intake's own, smaller
size limit.
"""

from functools import wraps

from django.conf import settings
from django.core.files.uploadhandler import SkipFile
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from submissions.uploads import HashingUploadHandler, clean_file_name


class IntakeUploadHandler(HashingUploadHandler):
    """HashingUploadHandler that also stops a file at INTAKE_MAX_FILE_BYTES."""

    def receive_data_chunk(self, raw_data, start):
        if self.size + len(raw_data) > settings.INTAKE_MAX_FILE_BYTES:
            self.rejected.append((clean_file_name(self.original_name), "too_large"))
            self._discard()
            raise SkipFile
        return super().receive_data_chunk(raw_data, start)


def with_intake_upload_handler(view):
    """Run `view` with IntakeUploadHandler (as submissions.uploads.with_hashing_upload_handler)."""

    @wraps(view)
    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        request.upload_handlers = [IntakeUploadHandler(request)]
        request._stored_uploads = []
        try:
            return csrf_protect(view)(request, *args, **kwargs)
        finally:  # files streamed into an object store that nothing kept: no orphans
            for uploaded in request._stored_uploads:
                uploaded.discard()

    return wrapper


def rejection_message(name: str, reason: str) -> str:
    from django.utils.translation import gettext as _

    if reason == "too_large":
        return _("%(name)s is larger than the limit of %(limit)s MB and was not kept.") % {
            "name": name,
            "limit": settings.INTAKE_MAX_FILE_BYTES // (1024 * 1024),
        }
    return _("%(name)s could not be received.") % {"name": name}
