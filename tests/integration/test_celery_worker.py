import os
import signal
import time
import uuid

import pytest

from portal import tasks
from tests.integration import worker_tasks

pytestmark = pytest.mark.integration


def test_a_task_goes_through_a_real_worker_on_postgresql(celery_worker):
    result = tasks.ping.delay()
    assert result.get(timeout=30) == {"pong": True, "database": "postgresql"}


def test_a_task_is_delivered_again_when_the_process_running_it_dies(celery_worker, redis_client):
    key = f"test:{uuid.uuid4().hex}"
    result = worker_tasks.count_attempt_then_sleep.delay(key, 3)

    deadline = time.monotonic() + 30
    while not redis_client.lrange(f"{key}:pids", 0, -1):
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.1)
    first_pid = int(redis_client.lrange(f"{key}:pids", 0, -1)[0])
    os.kill(first_pid, signal.SIGKILL)  # as the kernel's OOM killer would

    # Late acknowledgement + reject-on-worker-lost: the message goes back to the queue and a
    # fresh process runs it to the end.
    assert result.get(timeout=60) == 2, "the task was lost with its process"
    pids = [int(pid) for pid in redis_client.lrange(f"{key}:pids", 0, -1)]
    assert len(pids) == 2 and pids[1] != first_pid
    assert redis_client.lrange(f"{key}:done", 0, -1) == ["2"]
    redis_client.delete(f"{key}:attempts", f"{key}:pids", f"{key}:done")
