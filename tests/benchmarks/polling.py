"""Requests per second a path answers: client processes on this machine keep connections
open and request as fast as answers come, for a fixed time (used by scale.py)."""

import http.client
import multiprocessing
import time


def hammer(port: int, path: str, headers: dict, seconds: float, counts) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        done += 1
    counts.put(done)


def throughput(port: int, path: str, headers: dict, *, seconds: float, clients: int) -> float:
    counts: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=hammer, args=(port, path, headers, seconds, counts))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    total = sum(counts.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds
