"""Requests in, without NUL characters: PostgreSQL text cannot hold them, and no field needs one."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, MultiPartParser


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class NulFreeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _has_nul(data):
            raise ParseError("Text cannot contain NUL (\\u0000) characters.")
        return data


class NulFreeMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if any(_has_nul(key) or _has_nul(values) for key, values in parsed.data.lists()):
            raise ParseError("Text cannot contain NUL (\\u0000) characters.")
        return parsed
