"""Web and workers on separate machines: one web role and two worker roles, each a
separate `manage.py serve` with its own empty data folder (no shared disk), sharing only
PostgreSQL, Redis and an S3-compatible bucket. An agent in Chromium takes photos from
upload through the workers to the gallery and a share link; a worker machine that dies
mid-order loses nothing."""

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path

import boto3
import psycopg
import pytest
import redis
from playwright.sync_api import expect

from ..factories import PASSWORD
from ..images import jpeg_bytes
from ..test_settings_and_serve import ROOT, ServeOutput, clean_env, free_port, wait_for_page
from .conftest import SCREENSHOTS, csp_violations

POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"
IMAGES_LOADED = "(selector) => [...document.querySelectorAll(selector)].every(i => i.naturalWidth)"

CREATE_AGENT = f"""
from homedesign.accounts.models import User
User.objects.create_user(email="nadia@example.com", password={PASSWORD!r}, name="Nadia Nord")
"""


@pytest.fixture
def shared_services(s3_endpoint):
    """What the machines share: a fresh PostgreSQL database, a Redis database and a bucket."""
    name = f"machines_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    queue, redis_url = _free_redis_database()
    bucket = f"machines-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test-secret",
    ).create_bucket(Bucket=bucket)  # fmt: skip
    yield {
        "DATABASE_URL": f"{POSTGRES}/{name}",
        "REDIS_URL": redis_url,
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "SECRET_KEY": "the same secret on every machine of this site " + name,
        # A lost worker's order is noticed within seconds rather than minutes.
        "ORDER_LEASE_SECONDS": "30",
        "ORDER_REAP_SECONDS": "1",
    }
    queue.flushdb()  # the lock too
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_redis_database() -> tuple[redis.Redis, str]:
    """A Redis database of its own (1–12; a run at scale uses 15), taken with a lock so a
    second test run on the same machine picks another; emptied before use."""
    for number in range(1, 13):
        database = redis.Redis.from_url(f"{REDIS}/{number}")
        if database.set("homedesign-several-machines-test", "taken", nx=True, ex=1800):
            for key in database.scan_iter():
                if key != b"homedesign-several-machines-test":
                    database.delete(key)
            return database, f"{REDIS}/{number}"
    raise AssertionError("every Redis database 1–12 is taken by another test run")


class Machine:
    """One `manage.py serve --role …` in its own data folder and process group."""

    def __init__(self, role: str, folder: Path, shared: dict[str, str], port: int = 0):
        folder.mkdir()
        self.folder = folder
        self.env = {**shared, "DATA_DIR": str(folder), "STATIC_ROOT": str(folder / "static")}
        command = [sys.executable, "manage.py", "serve", "--role", role]
        if port:
            command += ["--port", str(port)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=clean_env(**self.env), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.output = ServeOutput(self.process)

    def processes(self) -> set[int]:
        """serve and everything under it (its children run in process groups of their own)."""
        found, frontier = {self.process.pid}, [self.process.pid]
        while frontier:
            parent = frontier.pop()
            for pid in _children(parent):
                found.add(pid)
                frontier.append(pid)
        return found

    def is_running_a_job(self) -> bool:
        """RQ's worker forks a work horse for each job: serve → rqworker → horse."""
        return any(_children(pid) for pid in _children(self.process.pid))

    def pull_the_plug(self) -> None:
        for pid in self.processes():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.pull_the_plug()

    def folder_holds_media(self) -> bool:
        return (self.folder / "media").exists()


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


def order_row(env: dict[str, str], order_id: str) -> tuple[str, int]:
    with psycopg.connect(env["DATABASE_URL"]) as db:
        return db.execute(
            "SELECT status, attempts FROM orders_order WHERE id = %s", [order_id]
        ).fetchone()


def credits_of(env: dict[str, str], email: str) -> int:
    with psycopg.connect(env["DATABASE_URL"]) as db:
        row = db.execute("SELECT credits FROM accounts_user WHERE email = %s", [email]).fetchone()
    return row[0]


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def test_web_and_two_workers_on_separate_machines(browser, shared_services, tmp_path):
    port = free_port()
    web = Machine("web", tmp_path / "web", shared_services, port=port)
    workers: list[Machine] = []
    try:
        web.output.wait_for("homedesign is running at", timeout=180)
        workers = [Machine("worker", tmp_path / f"worker-{n}", shared_services) for n in (1, 2)]
        for worker in workers:
            worker.output.wait_for(r"Started the task worker \(pid \d+\)", timeout=180)
            worker.output.wait_for("Listening on default", timeout=180)
        base = f"http://127.0.0.1:{port}"
        assert wait_for_page(f"{base}/accounts/login/")[0] == 200
        made = subprocess.run(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", CREATE_AGENT],
            cwd=ROOT, env=clean_env(**web.env), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        starting_credits = credits_of(web.env, "nadia@example.com")

        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        blocked = csp_violations(page)
        page.goto("/accounts/login/")
        page.get_by_label("E-mail address").fill("nadia@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="New project").click()
        page.get_by_label("Project name").fill("Villa du Nord")
        page.get_by_role("button", name="Create project").click()
        page.locator("#photo-input").set_input_files(
            [
                {"name": "salon.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((1600, 1000))},
                # Big enough that its edit is still running when its machine dies.
                {"name": "grand.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((3000, 2000))},
            ]
        )
        expect(page.locator(".upload-row").filter(has_text="Uploaded")).to_have_count(2)
        page.wait_for_function(IMAGES_LOADED, arg="#photo-grid img")  # from the bucket

        # An edit of the first photo, from the order form to the gallery.
        page.get_by_role("img", name="salon.jpg").click()
        page.get_by_role("link", name="Order an edit").click()
        page.locator("[data-service=image_enhancement]").get_by_role("link", name="Choose").click()
        page.get_by_label("Scene").select_option("indoor")
        page.get_by_role("button", name="Order for 1 credit").click()
        expect(page.get_by_test_id("gallery")).to_be_visible(timeout=120_000)
        page.wait_for_function(IMAGES_LOADED, arg=".compare img")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "machines-gallery.png", full_page=True)
        page.get_by_role("button", name="Create share link").click()
        share_url = page.get_by_label("Share link").first.input_value()

        # The seller, on another browser, sees the result.
        seller = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        seller_blocked = csp_violations(seller)
        seller.goto(share_url)
        expect(seller.locator(".compare img").first).to_be_visible()
        seller.wait_for_function(IMAGES_LOADED, arg=".compare img")
        seller.screenshot(path=SCREENSHOTS / "machines-share-phone.png", full_page=True)

        # An edit of the big photo; the machine running it dies halfway.
        page.goto(f"{base}/")
        page.get_by_role("link", name="Villa du Nord").click()
        page.get_by_role("img", name="grand.jpg").click()
        page.get_by_role("link", name="Order an edit").click()
        page.locator("[data-service=upscale]").get_by_role("link", name="Choose").click()
        page.get_by_role("button", name="Order for").click()
        expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
        order_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        running = wait_until(
            lambda: (
                order_row(web.env, order_id)[0] == "processing"
                and next((w for w in workers if w.is_running_a_job()), None)
            ),
            timeout=120,
            what="a worker to take the big order",
        )
        running.pull_the_plug()
        assert order_row(web.env, order_id)[0] == "processing"  # died mid-order

        expect(page.get_by_test_id("gallery")).to_be_visible(timeout=240_000)
        page.wait_for_function(IMAGES_LOADED, arg=".compare img")
        status, attempts = order_row(web.env, order_id)
        assert (status, attempts) == ("succeeded", 2)  # taken again by the other machine
        assert starting_credits - credits_of(web.env, "nadia@example.com") == 2  # 1 + 1, once

        # No machine kept a file on its own disk: everything is in the bucket.
        assert not any(m.folder_holds_media() for m in [web, *workers])
        assert blocked == [] and seller_blocked == []
    finally:
        for machine in [*workers, web]:
            machine.stop()
