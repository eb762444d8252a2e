"""What the browser and HTTP benchmarks share: data made by a Django shell script, and
gunicorn run as `make run` runs it."""

import contextlib
import http.client
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def an_order(email: str) -> str:
    """A Django shell script that leaves `user` (a new account) and a queued `order`."""
    return AN_ORDER.replace("EMAIL", email)


AN_ORDER = """
from django.core.files.uploadedfile import SimpleUploadedFile
from homedesign.accounts.models import User
from homedesign.projects.models import Project
from homedesign.projects.services import photo_add
from orders.services import order_place
from tests.images import jpeg_bytes

user = User.objects.create_user("EMAIL", "a long passphrase 123")
project = Project.objects.create(owner=user, name="Benchmark")
photo = photo_add(project=project, upload=SimpleUploadedFile("p.jpg", jpeg_bytes()))
order = order_place(user=user, photo=photo, service="upscale", options={"scale": "2"})
"""


def shell(script: str, env: dict) -> list[str]:
    """Run a script in `manage.py shell`; return the words it printed."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout.split()


@contextlib.contextmanager
def gunicorn(env: dict, port: int, log: Path | None = None) -> Iterator[subprocess.Popen]:
    """`log`: where its error log goes (worker restarts, tracebacks); by default nowhere."""
    with contextlib.ExitStack() as stack:
        errors = stack.enter_context(log.open("w")) if log else subprocess.DEVNULL
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "homedesign.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4", "--no-control-socket"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors,
        )  # fmt: skip
        try:
            _wait_for(port)
            yield server
        finally:
            server.terminate()
            server.wait()


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz/")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")
