"""Tasks that exist only for the integration tests; the test worker loads them with --include."""

import os
import time

import redis
from celery import shared_task
from django.conf import settings


@shared_task(bind=True)
def count_attempt_then_sleep(self, key: str, seconds: float) -> int:
    """Count this attempt (with the process and worker running it) in Redis, then sleep."""
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    attempt = client.incr(f"{key}:attempts")
    client.rpush(f"{key}:pids", os.getpid())
    client.rpush(f"{key}:workers", self.request.hostname)
    time.sleep(seconds)
    client.rpush(f"{key}:done", attempt)
    return attempt
