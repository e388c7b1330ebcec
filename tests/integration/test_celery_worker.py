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
    redis_client.delete(*(f"{key}:{part}" for part in ("attempts", "pids", "workers", "done")))


def test_a_task_survives_its_whole_worker_dying_and_completes_once_elsewhere(
    start_worker, redis_client
):
    first, first_name = start_worker(visibility_timeout=5)
    key = f"test:{uuid.uuid4().hex}"
    result = worker_tasks.count_attempt_then_sleep.delay(key, 2)

    deadline = time.monotonic() + 30
    while not redis_client.lrange(f"{key}:workers", 0, -1):
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.1)
    assert redis_client.lrange(f"{key}:workers", 0, -1) == [first_name]
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker, as a machine that dies
    first.wait(timeout=10)

    _second, second_name = start_worker(visibility_timeout=5)
    # The message was never acknowledged: once the visibility timeout passes, Redis hands it
    # to the surviving worker, which runs it to the end, once.
    assert result.get(timeout=90) == 2
    assert redis_client.lrange(f"{key}:workers", 0, -1) == [first_name, second_name]
    assert redis_client.lrange(f"{key}:done", 0, -1) == ["2"]
    redis_client.delete(*(f"{key}:{part}" for part in ("attempts", "pids", "workers", "done")))
