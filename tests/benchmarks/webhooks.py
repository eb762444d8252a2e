"""How fast a provider's webhook is answered (providers give up after about 10 s), against
a bare view on the same gunicorn. Each call matches the order, moves its next poll to now
and queues it: the work itself stays in the worker."""

import http.client
import json
import statistics
import time

from .server import an_order, gunicorn, shell

CALLS = 300

SETUP = (
    an_order("hook@example.com")
    + """
from django.urls import reverse
from orders.models import Order
from orders.providers.handover import webhook_secret

Order.objects.filter(pk=order.pk).update(status="processing", provider="iacrea",
                                         provider_ref="gen-1", provider_state={"remote": True})
print(reverse("orders:webhook", args=["iacrea", webhook_secret("iacrea")]))
"""
)


def latencies(port: int, method: str, path: str, body: bytes = b"") -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Host": "localhost", "Content-Type": "application/json"}
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        assert response.status == 200, response.status
    return times


def run(tmp: str, env: dict) -> None:
    (path,) = shell(SETUP, env)
    body = json.dumps({"generation_id": "gen-1", "status": "SUCCEEDED", "images": []}).encode()
    port = 8766
    with gunicorn(env, port):
        latencies(port, "GET", "/healthz/")  # warm up
        bare = latencies(port, "GET", "/healthz/")
        hooks = latencies(port, "POST", path, body)
    bare_ms, hook_ms = statistics.median(bare) * 1000, statistics.median(hooks) * 1000
    worst = max(hooks) * 1000
    print(f"Webhooks: {CALLS} IACrea completion calls in a row on one connection (SQLite)")
    print(f"  bare view (/healthz/)   median {bare_ms:6.1f} ms   1.00×")
    print(f"  webhook, matched+queued median {hook_ms:6.1f} ms   {hook_ms / bare_ms:.2f}×"
          f"   slowest {worst:.0f} ms (providers allow 10 000)\n")  # fmt: skip
