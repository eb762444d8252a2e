"""A real `db_worker` process takes a queued order and finishes it."""

import signal
import sqlite3
import subprocess
import sys
import time

from .test_settings_and_serve import ROOT, clean_env, manage

PLACE_ORDER = """
from django.core.files.uploadedfile import SimpleUploadedFile
from homedesign.accounts.models import User
from homedesign.projects.models import Project
from homedesign.projects.services import photo_add
from orders.services import order_place
from tests.images import jpeg_bytes

user = User.objects.create_user("worker@example.com", "a long passphrase 123")
project = Project.objects.create(owner=user, name="Worker test")
photo = photo_add(project=project, upload=SimpleUploadedFile("room.jpg", jpeg_bytes((1200, 800))))
order = order_place(user=user, photo=photo, service="image_enhancement",
                    options={"scene": "indoor", "white_balance": True,
                             "local_contrast": True, "sharpen": True})
print(order.pk.hex)
"""


def order_status(database, order_id: str) -> str:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT status FROM orders_order WHERE id = ?", [order_id]).fetchone()[0]


def statuses_while_a_worker_runs(env: dict, database, order_id: str) -> list[str]:
    """Start `manage.py db_worker`, note each status the order goes through until it is
    finished (at most a minute), stop the worker."""
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1"],
        cwd=ROOT, env=clean_env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    seen = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = order_status(database, order_id)
            if not seen or seen[-1] != status:
                seen.append(status)
            if status in ("succeeded", "failed"):
                break
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    return seen


def test_db_worker_takes_a_queued_order_to_succeeded(tmp_path):
    env = {"DATA_DIR": str(tmp_path)}
    assert manage("migrate", "--no-input", env=env).returncode == 0
    placed = manage("shell", "-v", "0", "-c", PLACE_ORDER, env=env)
    assert placed.returncode == 0, placed.stderr
    order_id = placed.stdout.strip().splitlines()[-1]
    database = tmp_path / "db.sqlite3"
    assert order_status(database, order_id) == "queued"

    seen = statuses_while_a_worker_runs(env, database, order_id)

    assert seen[0] == "queued" and seen[-1] == "succeeded", seen
    with sqlite3.connect(database) as db:
        results = db.execute(
            "SELECT COUNT(*) FROM orders_orderresult WHERE order_id = ?", [order_id]
        )
        assert results.fetchone()[0] == 1
        charged, refunded = db.execute(
            "SELECT credits_charged, credits_refunded FROM orders_order WHERE id = ?", [order_id]
        ).fetchone()
    assert (charged, refunded) == (1, 0)


PLACE_REMOVAL = """
import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from homedesign.accounts.models import User
from homedesign.projects.models import Project
from homedesign.projects.services import photo_add
from maskeditor.services import mask_save
from orders.services import order_place
from tests.images import jpeg_bytes

user = User.objects.create_user("remote@example.com", "a long passphrase 123")
project = Project.objects.create(owner=user, name="Remote")
photo = photo_add(project=project, upload=SimpleUploadedFile("room.jpg", jpeg_bytes((800, 600))))
painted = np.zeros((600, 800), bool)
painted[200:300, 300:500] = True
order = order_place(user=user, photo=photo, service="item_removal_mask", options={},
                    mask=mask_save(photo=photo, painted=painted))
print(order.pk.hex)
"""


def test_db_worker_runs_an_order_through_a_remote_provider(tmp_path):
    from .fakes import FakeObjectRemover

    fake = FakeObjectRemover(token="t0ken")
    env = {
        "DATA_DIR": str(tmp_path),
        "OBJECT_REMOVER_BASE_URL": fake.url,
        "OBJECT_REMOVER_TOKEN": "t0ken",
        "ORDER_PROVIDERS": "item_removal_mask=object_remover",
    }
    try:
        assert manage("migrate", "--no-input", env=env).returncode == 0
        placed = manage("shell", "-v", "0", "-c", PLACE_REMOVAL, env=env)
        assert placed.returncode == 0, placed.stderr
        order_id = placed.stdout.strip().splitlines()[-1]
        batch = manage("db_worker", "--batch", env=env, timeout=120)
        assert batch.returncode == 0, batch.stderr
    finally:
        fake.close()

    database = tmp_path / "db.sqlite3"
    assert order_status(database, order_id) == "succeeded"
    with sqlite3.connect(database) as db:
        provider = db.execute("SELECT provider FROM orders_order WHERE id = ?", [order_id])
        assert provider.fetchone()[0] == "object_remover"
    assert [s.path.split("output_")[0] for s in fake.seen] == [
        "/upload-image", "/upload-mask", "/inpaint", "/download/",
    ]  # fmt: skip


PLACE_STAGING = """
from django.core.files.uploadedfile import SimpleUploadedFile
from homedesign.accounts.models import User
from homedesign.projects.models import Project
from homedesign.projects.services import photo_add
from orders.services import order_place
from tests.images import jpeg_bytes

user = User.objects.create_user("staging@example.com", "a long passphrase 123")
project = Project.objects.create(owner=user, name="Remote")
photo = photo_add(project=project, upload=SimpleUploadedFile("room.jpg", jpeg_bytes((800, 600))))
order = order_place(user=user, photo=photo, service="virtual_staging",
                    options={"room_type": "living_room", "style": "modern", "results": 1})
print(order.pk.hex)
"""


def test_db_worker_follows_a_remote_job_until_it_is_done(tmp_path):
    """Submission, then polls queued by the worker itself, until AI HomeDesign is done."""
    from .fakes import FakeAiHomeDesign

    fake = FakeAiHomeDesign()
    fake.polls_until_done = 3
    env = {
        "DATA_DIR": str(tmp_path),
        "AIHOMEDESIGN_API_KEY": fake.key,
        "AIHOMEDESIGN_BASE_URL": fake.url + "/v1",
        "EGRESS_TRUSTED_ORIGINS": fake.cdn,
        "REMOTE_POLL_SECONDS": "0.2",
    }
    try:
        assert manage("migrate", "--no-input", env=env).returncode == 0
        placed = manage("shell", "-v", "0", "-c", PLACE_STAGING, env=env)
        assert placed.returncode == 0, placed.stderr
        order_id = placed.stdout.strip().splitlines()[-1]
        seen = statuses_while_a_worker_runs(env, tmp_path / "db.sqlite3", order_id)
    finally:
        fake.close()

    assert seen == ["queued", "processing", "succeeded"], seen
    paths = [s.path.split("?")[0] for s in fake.seen if "/cdn/" not in s.path]
    details = [p for p in paths if p.startswith("/v1/order/") and p != "/v1/order/image"]
    assert paths[-len(details) - 2 :] == ["/v1/order/image", "/v1/order", *details]
    assert len(details) == 4  # three "not yet", then the image, then no more polls
    assert not fake.errors
