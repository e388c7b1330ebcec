"""Tokens and an API client for the API tests."""

import pytest
from django.test import Client

from api import services


class ApiClient(Client):
    """A client that sends a bearer token and JSON, and no session cookie."""

    def __init__(self, token: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.token = token

    def generic(self, method, path, data="", content_type="application/json", **extra):
        if self.token:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return super().generic(method, path, data, content_type, **extra)

    def post(self, path, data=None, content_type="application/json", **extra):
        return super().post(path, data, content_type=content_type, **extra)

    def put(self, path, data="", content_type="application/json", **extra):
        return super().put(path, data, content_type=content_type, **extra)

    def patch(self, path, data="", content_type="application/json", **extra):
        return super().patch(path, data, content_type=content_type, **extra)


def make_token(user, scope="write", days=30, identities=False) -> str:
    _token, raw = services.create_token(
        by=user, name="test", scope=scope, days=days, identities=identities
    )
    return raw


@pytest.fixture
def alice_api(alice):
    return ApiClient(make_token(alice))


@pytest.fixture
def alice_read(alice):
    return ApiClient(make_token(alice, "read"))


@pytest.fixture
def mallory_api(mallory):
    return ApiClient(make_token(mallory))
