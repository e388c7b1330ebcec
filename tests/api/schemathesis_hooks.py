"""Schemathesis hooks (SCHEMATHESIS_HOOKS): how to send the API's two non-JSON bodies."""

import json

import schemathesis


def _bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass")


@schemathesis.serializer("application/x-ndjson")
def ndjson(context, value):
    return {"data": _bytes(value)}


@schemathesis.serializer("application/offset+octet-stream")
def octets(context, value):
    return {"data": _bytes(value)}
