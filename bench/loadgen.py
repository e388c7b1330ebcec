"""
A closed-loop HTTP load generator, run as its own process (bench_load.py starts it).

    python bench/loadgen.py PLAN.json

PLAN: {"port": 8000, "seconds": 15, "users": [{"method": "GET", "path": "/", "headers": {},
"body": ""}, ...]}: one thread per user, each on its own keep-alive connection, sending its
request again as soon as the answer is in (no think time: the hardest case for the server).
Prints {"requests", "errors", "latencies" (seconds), "statuses", "elapsed"} as JSON. A 2xx or
3xx answer is a success; anything else, or a broken connection, is an error.
"""

import http.client
import json
import sys
import threading
import time


def user(plan: dict, spec: dict, deadline: float, results: list, lock: threading.Lock) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", plan["port"], timeout=60)
    body = spec.get("body", "").encode()
    mine = []
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            connection.request(spec["method"], spec["path"], body=body or None,
                               headers=spec.get("headers", {}))  # fmt: skip
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", plan["port"], timeout=60)
        mine.append((time.perf_counter() - started, status))
    connection.close()
    with lock:
        results.extend(mine)


def main(path: str) -> None:
    with open(path) as handle:
        plan = json.load(handle)
    results: list = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + plan["seconds"]
    threads = [
        threading.Thread(target=user, args=(plan, spec, deadline, results, lock))
        for spec in plan["users"]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    statuses: dict[str, int] = {}
    for _seconds, status in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    json.dump(
        {
            "requests": len(results),
            "errors": sum(1 for _s, status in results if not 200 <= status < 400),
            "latencies": [seconds for seconds, _status in results],
            "statuses": statuses,
            "elapsed": elapsed,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1])
