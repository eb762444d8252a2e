"""Throughput of the order page's status poll against a bare view, same server, same run.

gunicorn runs as `make run` runs it (2 workers × 4 threads); four client processes on this
machine keep connections open and request as fast as answers come, for a fixed time.
"""

import http.client
import multiprocessing
import os
import statistics
import time

from .server import an_order, gunicorn, shell

SECONDS = float(os.environ.get("BENCH_POLL_SECONDS", "5"))
CLIENTS = 4

SETUP = (
    an_order("poll@example.com")
    + """
from django.test import Client

client = Client(HTTP_HOST="localhost")
client.force_login(user)
print(order.get_absolute_url(), client.cookies["sessionid"].value)
"""
)


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


def throughput(port: int, path: str, headers: dict) -> float:
    counts = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=hammer, args=(port, path, headers, SECONDS, counts))
        for _ in range(CLIENTS)
    ]
    for worker in workers:
        worker.start()
    total = sum(counts.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / SECONDS


def run(tmp: str, env: dict) -> None:
    order_path, session = shell(SETUP, env)
    port = 8765
    with gunicorn(env, port):
        status_headers = {
            "Cookie": f"sessionid={session}",
            "HX-Request": "true",
            "Host": "localhost",
        }
        bare_headers = {"Host": "localhost"}
        throughput(port, "/healthz/", bare_headers)  # warm up both paths
        throughput(port, order_path, status_headers)
        bare, status = [], []
        for _ in range(3):
            bare.append(throughput(port, "/healthz/", bare_headers))
            status.append(throughput(port, order_path, status_headers))
    bare_rate, status_rate = statistics.median(bare), statistics.median(status)
    ratio = status_rate / bare_rate
    print(f"Polling: gunicorn 2 × 4 threads, {CLIENTS} keep-alive clients, {SECONDS:.0f} s × 3")
    print(f"  bare view (/healthz/)              {bare_rate:8.0f} req/s   1.00×")
    print(f"  order status fragment (HTMX poll)  {status_rate:8.0f} req/s   {ratio:.2f}×")
    agents = status_rate * 2  # each open order page polls every 2 s
    print(f"  → about {agents:.0f} agents can watch an order at once on this server\n")
