"""Tasks that exist only for the integration tests; the test worker loads them with --include."""

import os
import time

import redis
from celery import shared_task
from django.conf import settings


@shared_task
def count_attempt_then_sleep(key: str, seconds: float) -> int:
    """Count this attempt (with the pid running it) in Redis, then sleep."""
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    attempt = client.incr(f"{key}:attempts")
    client.rpush(f"{key}:pids", os.getpid())
    time.sleep(seconds)
    client.rpush(f"{key}:done", attempt)
    return attempt
