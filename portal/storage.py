"""Private file storage: files on local disk that no URL serves."""

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """
    Keep files in a folder readable by the portal's user only, with no public URL.

    Evidence is downloaded through views that check access and stream the file; asking this
    storage for a URL is a bug, so it refuses instead of handing out a guessable path.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        kwargs["base_url"] = None
        super().__init__(**kwargs)

    def url(self, name):
        raise NotImplementedError("Private files have no URL: stream them through a view.")
