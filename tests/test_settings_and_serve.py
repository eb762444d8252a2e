"""The production path: settings from the environment, and `make run`'s serve command."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "-production-secret-of-fifty-chars",
    "ALLOWED_HOSTS": "homedesign.example",
    "HTTPS": "1",
}


# Each subprocess gets a fresh SQLite database, the database queue and files in its own data
# folder (the embedded default), whatever this run uses.
OWN_SETTINGS = {
    "SECRET_KEY", "DEBUG", "DATA_DIR", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE",
    "REDIS_URL", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
}  # fmt: skip


def clean_env(**env: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS}
    return {**inherited, "DJANGO_SETTINGS_MODULE": "homedesign.settings", **env}


def manage(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_check_deploy_is_clean_with_production_values(tmp_path):
    env = {**PRODUCTION_ENV, "DATA_DIR": str(tmp_path)}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_secret_key_one_is_generated_once_in_the_data_folder(tmp_path):
    show_key = [
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    ]
    first = manage(*show_key, env={"DATA_DIR": str(tmp_path)})
    second = manage(*show_key, env={"DATA_DIR": str(tmp_path)})

    key_file = tmp_path / "secret_key"
    assert first.stdout.strip() == second.stdout.strip() == key_file.read_text().strip()
    assert len(first.stdout.strip()) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_production_without_secret_key_is_refused(tmp_path):
    env = {**PRODUCTION_ENV, "DATA_DIR": str(tmp_path), "SECRET_KEY": ""}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "Set SECRET_KEY in production" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_a_short_secret_key_is_refused(tmp_path):
    result = manage("check", env={"SECRET_KEY": "short", "DATA_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert "SECRET_KEY must be at least 32 characters long" in result.stderr


def test_debug_is_off_unless_asked(tmp_path):
    show = ["shell", "-v", "0", "-c", "from django.conf import settings; print(settings.DEBUG)"]

    assert manage(*show, env={"DATA_DIR": str(tmp_path)}).stdout.strip() == "False"
    assert manage(*show, env={"DATA_DIR": str(tmp_path), "DEBUG": "1"}).stdout.strip() == "True"


def wait_for_page(url: str, timeout: float = 60) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get(url)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


class ServeOutput:
    """Reads serve's output in a thread, so waiting for a line has a real deadline."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.seen = 0
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        """The next line after the last one waited for that matches `pattern`."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for index in range(self.seen, len(self.lines)):
                    match = re.search(pattern, self.lines[index])
                    if match:
                        self.seen = index + 1
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or not self.thread.is_alive():
                    text = "".join(self.lines[-40:])
                    raise AssertionError(f"serve never printed {pattern!r}; its output:\n{text}")
                self.changed.wait(min(left, 1))

    @property
    def text(self) -> str:
        self.thread.join(timeout=10)
        return "".join(self.lines)


def start_serve(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # As when a shell starts `make run` in the background: SIGINT arrives ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )


def stop_serve(server: subprocess.Popen) -> int:
    server.send_signal(signal.SIGINT)
    try:
        return server.wait(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_on_a_fresh_checkout_sets_up_runs_both_and_stops_both_on_ctrl_c(tmp_path):
    """No migrate and no collectstatic beforehand: serve does both and says so."""
    env = {"DATA_DIR": str(tmp_path), "STATIC_ROOT": str(tmp_path / "static")}
    port = free_port()
    server = start_serve(env, port)
    output = ServeOutput(server)
    try:
        output.wait_for(r"Applied \d+ database migration")
        output.wait_for(r"Static files: \d+ static files? copied")
        assert f"http://localhost:{port}/" in output.wait_for("homedesign is running at").string
        output.wait_for("Starting worker .*queues=default")

        status, page = wait_for_page(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200 and "Log in" in page
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]+\.css)"', page).group(1)
        assert get(f"http://127.0.0.1:{port}{stylesheet}")[0] == 200
    finally:
        assert stop_serve(server) == 0
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the web server outlived serve"
    assert "Stopping the web server and the worker" in output.text


def test_serve_restarts_a_dead_worker_and_a_dead_web_server(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "STATIC_ROOT": str(tmp_path / "static")}
    port = free_port()
    page = f"http://127.0.0.1:{port}/accounts/login/"
    server = start_serve(env, port)
    output = ServeOutput(server)
    pids = []
    try:
        web = int(output.wait_for(r"Started the web server \(pid (\d+)\)").group(1))
        worker = int(output.wait_for(r"Started the task worker \(pid (\d+)\)").group(1))
        assert wait_for_page(page)[0] == 200

        os.kill(worker, signal.SIGKILL)
        output.wait_for(rf"task worker \(pid {worker}\) was killed by SIGKILL; starting it again")
        assert get(page)[0] == 200  # the site answers while the worker is down
        new_worker = int(output.wait_for(r"Started the task worker \(pid (\d+)\)").group(1))
        output.wait_for("Starting worker .*queues=default")
        assert new_worker != worker and is_running(new_worker)

        os.kill(web, signal.SIGKILL)
        output.wait_for(rf"web server \(pid {web}\) was killed by SIGKILL; starting it again")
        new_web = int(output.wait_for(r"Started the web server \(pid (\d+)\)").group(1))
        assert wait_for_page(page)[0] == 200
        pids = [new_web, new_worker]
    finally:
        assert stop_serve(server) == 0
    assert not [pid for pid in pids if is_running(pid)], "a child outlived serve"


def test_healthz_answers_anyone(client):
    response = client.get("/healthz/")

    assert (response.status_code, response.content) == (200, b"ok")


SHOW_BACKENDS = """
from django.core.cache import caches
from django.core.files.storage import storages
from django_tasks import task_backends
import os
cache = caches["default"]
print(*(type(b).__name__ for b in (storages["default"], cache, task_backends["default"])))
if os.environ.get("SET_KEY"):
    cache.set(os.environ["KEY"], "from the first process", 60)
print(cache.get(os.environ["KEY"]))
"""


def test_redis_and_a_bucket_are_used_when_configured_and_shared_across_processes(tmp_path):
    scale = {
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "KEY": f"shared-by-every-machine-{uuid.uuid4().hex}",
        "S3_BUCKET": "somewhere",
        "S3_ENDPOINT_URL": "http://127.0.0.1:1",
        "SECRET_KEY": "a secret shared by the processes of this test, long enough",
    }

    def backends(folder: str, **env: str) -> list[str]:
        shown = manage("shell", "-v", "0", "-c", SHOW_BACKENDS, env={"DATA_DIR": folder, **env})
        assert shown.returncode == 0, shown.stderr
        return shown.stdout.splitlines()

    first = backends(str(tmp_path / "a"), SET_KEY="1", **scale)
    second = backends(str(tmp_path / "b"), **scale)
    embedded = backends(str(tmp_path / "c"), KEY=scale["KEY"])

    at_scale = "S3Storage RedisCache RQBackend"
    assert first == second == [at_scale, "from the first process"]
    assert embedded == ["FileSystemStorage LocMemCache DatabaseBackend", "None"]


POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"  # only read: no table is touched
COUNT_PREPARED = """
from django.db import connection
with connection.cursor() as cursor:
    for _ in range(6):
        cursor.execute("SELECT %s::int", [1])
    cursor.execute("SELECT count(*) FROM pg_prepared_statements")
    print(cursor.fetchone()[0])
"""


def test_postgresql_plans_a_repeated_query_once_unless_a_pooler_forbids_it(tmp_path):
    # Every open order page polls every 2 s: its query is planned once per connection.
    def prepared(**env: str) -> int:
        env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": POSTGRES, **env}
        shown = manage("shell", "-v", "0", "-c", COUNT_PREPARED, env=env)
        assert shown.returncode == 0, shown.stderr
        return int(shown.stdout)

    assert prepared() == 1
    assert prepared(DATABASE_PREPARED_STATEMENTS="0") == 0  # PgBouncer in transaction mode
