"""
Requests in, refused early when hostile: no NUL characters (PostgreSQL text cannot hold them,
and no field needs one) and no JSON nested deeper than MAX_DEPTH (Python's decoder recurses
once per level: a body of 100,000 "[" would otherwise end in a RecursionError, a server error).
Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are refused by Django before parsing (413, problems.py).
"""

import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.utils import json

# The portal's deepest body (a subject with its documents) is 4 levels; 32 leaves room.
MAX_DEPTH = 32

# A JSON string, also one left open at the end, matched without backtracking (linear time).
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_SQUARE = str.maketrans("{}", "[]")


def nests_within(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """
    Return whether the brackets of `text` (outside strings) balance within `max_depth` levels.

    Each pass drops the innermost pairs, one level, at C speed: at most `max_depth` passes, so
    a 2.5 MB body is checked in milliseconds. Valid JSON always balances, so an unbalanced
    text (malformed anyway) is refused here too, before the recursive decoder sees it.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_SQUARE)
    for _level in range(max_depth):
        if not brackets:
            return True
        inner_dropped = brackets.replace("[]", "")
        if len(inner_dropped) == len(brackets):
            return False  # unbalanced
        brackets = inner_dropped
    return not brackets


def loads(text: str, *, max_depth: int = MAX_DEPTH):
    """json.loads, refusing (ParseError) what nests deeper than `max_depth` before decoding it."""
    if not nests_within(text, max_depth):
        raise ParseError(
            _("JSON nested deeper than %(max)d levels, or with unbalanced brackets, is refused.")
            % {"max": max_depth}
        )
    try:
        return json.loads(text, parse_constant=json.strict_constant)
    except ValueError as exc:
        raise ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from None


class BodyTooLarge(RequestDataTooBig):
    """A body over `limit` bytes (problems.py answers 413)."""

    def __init__(self, limit: int):
        super().__init__(f"The request body exceeded {limit} bytes.")
        self.limit = limit


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
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(_("The body is not %(encoding)s.") % {"encoding": encoding}) from None
        data = loads(text)
        if _has_nul(data):
            raise ParseError("Text cannot contain NUL (\\u0000) characters.")
        return data


class NulFreeMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if any(_has_nul(key) or _has_nul(values) for key, values in parsed.data.lists()):
            raise ParseError("Text cannot contain NUL (\\u0000) characters.")
        return parsed
