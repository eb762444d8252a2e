import contextlib
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings
from django.http import StreamingHttpResponse
from django.test import Client

from orders.tasks import run_order_task

from .factories import make_order, make_photo, make_project, make_user
from .images import jpeg_bytes, two_band_image


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3-compatible server: the run's (S3_ENDPOINT_URL), or else moto's standalone
    server started for this session (no S3 runs on the test machines)."""
    if django_settings.S3_ENDPOINT_URL:
        yield django_settings.S3_ENDPOINT_URL
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(endpoint, timeout=5)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "moto's S3 server did not start"
            time.sleep(0.1)
    yield endpoint
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="session")
def bucket():
    """The run's bucket on the S3-compatible server (S3_BUCKET), made once if missing."""
    if not django_settings.S3_BUCKET:
        return None
    from django.core.files.storage import storages

    client = storages.create_storage(django_settings.STORAGES["default"]).connection.meta.client
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=django_settings.S3_BUCKET)
    return django_settings.S3_BUCKET


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path, bucket):
    """Each test stores its files in its own folder (or, on a bucket, under its own
    prefix), and static files need no collectstatic."""
    settings.MEDIA_ROOT = tmp_path / "media"
    default = settings.STORAGES["default"]
    if bucket:
        prefix = f"tests/{uuid.uuid4().hex}"
        default = {**default, "OPTIONS": {**default["OPTIONS"], "location": prefix}}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_redis():
    """On Redis (the scale-out run), each test starts with an empty queue and cache, as it
    does with the database queue (rolled back) and the in-memory cache."""
    if django_settings.REDIS_URL:
        import django_rq

        django_rq.get_connection("default").flushdb()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """A login costs 0.6 s of CPU with the real hasher; lockout tests make dozens."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agent(db):
    return make_user("agent@example.com", name="Alice Martin", agency="Martin Immobilier")


@pytest.fixture
def outsider(db):
    return make_user("other@example.com")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def project(agent):
    return make_project(agent, address="12 Rue des Lilas, Lyon")


@pytest.fixture
def photo(project):
    return make_photo(project)  # 600 × 400


@pytest.fixture
def done_order(photo):
    """An enhancement of `photo`, run as the worker runs it: succeeded, one result."""
    order = make_order(photo)
    run_order_task.call(order_id=order.pk)
    order.refresh_from_db()
    return order


@pytest.fixture
def sideways_photo(project):
    """300×450 upright, red above blue, stored sideways (EXIF 6): remote APIs ignore EXIF
    orientation, so they must be sent the upright photo the agent saw and painted on."""
    data = jpeg_bytes(image=two_band_image((300, 450)).rotate(90, expand=True), orientation=6)
    return make_photo(project, data=data)


def pytest_report_header(config) -> str:
    database = django_settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}"


class BucketClient(Client):
    """The test client, following a redirect to the bucket the way a browser does (only
    when files are in a bucket): the answer is the bucket's, with the redirect kept as
    `response.redirect` for what the view itself said."""

    def get(self, path, *args, **kwargs):
        response = super().get(path, *args, **kwargs)
        location = response.get("Location", "")
        if response.status_code == 302 and location.startswith(django_settings.S3_ORIGIN + "/"):
            fetched = httpx.get(location, headers=_conditional(kwargs))
            followed = StreamingHttpResponse([fetched.content], status=fetched.status_code)
            for name, value in fetched.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    followed[name] = value
            followed.redirect = response
            return followed
        return response


def _conditional(kwargs) -> dict[str, str]:
    headers = dict(kwargs.get("headers") or {})
    if "HTTP_IF_NONE_MATCH" in kwargs:
        headers["If-None-Match"] = kwargs["HTTP_IF_NONE_MATCH"]
    return headers


@pytest.fixture
def client():
    return BucketClient() if django_settings.S3_BUCKET else Client()


@pytest.fixture
def local_files(settings):
    """Files on this machine's disk whatever the run uses, for what only disk storage does."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


@pytest.fixture
def database_queue(settings):
    """The database queue whatever the run uses, for what only it has (its task rows)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
