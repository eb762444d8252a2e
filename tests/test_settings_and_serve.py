"""The production path: settings from the environment, and `make run`'s serve command."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "-production-secret-of-fifty-chars",
    "ALLOWED_HOSTS": "homedesign.example",
    "HTTPS": "1",
}


# Each subprocess gets a fresh SQLite database in its own data folder, whatever this run uses.
OWN_SETTINGS = {"SECRET_KEY", "DEBUG", "DATA_DIR", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_serve_runs_web_server_and_worker_and_stops_both_on_ctrl_c(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "STATIC_ROOT": str(tmp_path / "static")}
    assert manage("migrate", "--no-input", env=env).returncode == 0
    assert manage("collectstatic", "--no-input", env=env).returncode == 0
    port = free_port()
    server = subprocess.Popen(
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
    try:
        output = wait_for_line(server, "homedesign is running at", timeout=30)
        assert f"http://localhost:{port}/" in output
        worker_line = wait_for_line(server, "Starting worker", timeout=30)
        assert "queues=default" in worker_line

        status, page = wait_for_page(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200 and "Log in" in page
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]+\.css)"', page).group(1)
        assert get(f"http://127.0.0.1:{port}{stylesheet}")[0] == 200

        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=40) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the web server outlived serve"
    assert "Stopping the web server and the worker" in server.stdout.read()


def wait_for_line(process: subprocess.Popen, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if text in line:
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"serve never printed {text!r}")


def wait_for_page(url: str) -> tuple[int, str]:
    for _ in range(50):
        try:
            return get(url)
        except OSError:
            time.sleep(0.2)
    return get(url)


def test_healthz_answers_anyone(client):
    response = client.get("/healthz/")

    assert (response.status_code, response.content) == (200, b"ok")
