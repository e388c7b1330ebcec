"""
The API's per-token rate limit, counted in the real Redis: one budget for every web process,
however many requests arrive at once.
"""

import threading
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from types import SimpleNamespace

import pytest
import redis
from django.core.cache import caches

from api.authentication import TokenRateThrottle
from tests.api.conftest import ApiClient, make_token

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_throttle(settings, redis_url):
    """The "api-throttle" cache in Redis, under a prefix of this test's own."""
    prefix = f"test-api-throttle-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        **settings.CACHES,
        "api-throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        },
    }
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def a_request(token_prefix: str):
    return SimpleNamespace(auth=SimpleNamespace(prefix=token_prefix))


def ask(token_prefix: str) -> bool:
    """One request's throttle decision, as DRF makes it: a new throttle per request."""
    return TokenRateThrottle().allow_request(a_request(token_prefix), view=None)


def test_requests_are_counted_in_redis(redis_throttle, redis_client, alice, settings):
    settings.API_TOKEN_RATE = "3/minute"
    api = ApiClient(make_token(alice))
    statuses = [api.get("/api/v1/dossiers/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    [key] = redis_client.keys(f"{redis_throttle}:*")
    assert redis_client.zcard(key) == 3  # the refused request is not counted
    assert 0 < redis_client.ttl(key) <= 60
    refused = api.get("/api/v1/dossiers/")
    assert refused["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_concurrent_requests_share_one_budget(redis_throttle, settings):
    settings.API_TOKEN_RATE = "10/minute"
    token = uuid.uuid4().hex[:8]
    start = threading.Barrier(40)
    answers = []

    def request():
        start.wait()
        answers.append(ask(token))

    threads = [threading.Thread(target=request) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(True) == 10
    assert ask(uuid.uuid4().hex[:8]) is True  # another token has its own budget


def _ask_many(token: str, times: int) -> int:
    caches.close_all()  # the forked process opens its own connections
    return sum(ask(token) for _ in range(times))


def test_separate_processes_share_one_budget(redis_throttle, settings):
    settings.API_TOKEN_RATE = "25/minute"
    token = uuid.uuid4().hex[:8]
    with ProcessPoolExecutor(4, mp_context=get_context("fork")) as pool:
        allowed = list(pool.map(_ask_many, [token] * 4, [20] * 4))
    assert sum(allowed) == 25
    assert ask(token) is False
