"""How the site's cost grows, on a fresh database of its own (PostgreSQL when one answers on
127.0.0.1:5432, else SQLite), with gunicorn run as `manage.py serve` runs it. Every figure
is a ratio against a baseline of the same run; the machine is shared, so nothing here is
an absolute promise.

- The order status poll against a bare view that loads the signed-in user (same server,
  same middleware): requests per second, on the empty database and after the fill.
- The poll, the project gallery of 100 results and the dashboard, median time on the empty
  database against after the fill (10,000 queued and 10,000 finished orders over 500 more
  agents, every queued one ahead of the polled order); each also over the bare view's own
  change between the two, which is the machine's drift (the fill cannot slow it).
- 200 agents polling every 2 s, 5 of whom upload a 12 MP photo at the same moment: p50
  and p99 of the polls (all of them, and those made while the uploads ran) and of the
  uploads, and the errors (there must be none).
- The task queue: 1 db_worker against 2, on small local orders.

`BENCH_ONLY=scale make bench` runs only this; BENCH_SCALE_SQLITE=1 runs it on SQLite.
"""

import asyncio
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from . import polling
from .server import ROOT, gunicorn

DATABASE = "bench_scale"  # our own: other work on this machine uses other databases
ROUND_SECONDS = float(os.environ.get("BENCH_SCALE_ROUND_SECONDS", "1"))
ROUNDS = 9  # short and alternating: the machine is shared, its load drifts
CLIENTS = 4
PAGE_REPEATS = 60
LOAD_SECONDS = float(os.environ.get("BENCH_SCALE_LOAD_SECONDS", "20"))
UPLOADERS = 5
WORKER_ORDERS = int(os.environ.get("BENCH_SCALE_WORKER_ORDERS", "24"))
PORT = 8767


def run(tmp: str, env: dict) -> None:
    folder = Path(tmp) / "scale"
    folder.mkdir()
    env = {
        **env,
        "DATA_DIR": str(folder),
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
        "LOG_LEVEL": "WARNING",
    }
    database_url = "" if os.environ.get("BENCH_SCALE_SQLITE") else _fresh_postgres()
    if database_url:
        env["DATABASE_URL"] = database_url
    engine = "PostgreSQL" if database_url else "SQLite (BENCH_SCALE_SQLITE, or no PostgreSQL)"
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
        _measure(folder, env, engine)
    finally:
        if database_url:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                            DATABASE], check=False)  # fmt: skip


def _measure(folder: Path, env: dict, engine: str) -> None:
    base = data(env, "setup")
    upload_photo = folder / "upload-12mp.jpg"
    data(env, "upload-photo", str(upload_photo))
    headers = {"Cookie": f"sessionid={base['session']}", "Host": "localhost"}
    htmx = {**headers, "HX-Request": "true"}
    pages = {
        "poll": (base["queued"], htmx),
        "poll, processing": (base["processing"], htmx),
        "gallery": (base["gallery"], headers),
        "dashboard": ("/", headers),
        "bare view": ("/bench/bare/", headers),  # the fill cannot slow it: the machine's drift
    }
    busy = os.getloadavg()[0]
    print(f"Scale: {engine}, gunicorn 2 workers × 4 threads (as manage.py serve), one server;")
    print(f"  this machine: {os.cpu_count()} cores, load average {busy:.1f} when it started")
    log = folder / "gunicorn.log"
    with gunicorn(env, PORT, log=log) as server:
        postgres = "DATABASE_URL" in env
        empty_ratio = poll_against_bare(server, base["queued"], htmx, postgres)
        empty = page_times(pages)
        filled = data(env, "fill", base["queued_id"])
        full = page_times(pages)
        full_ratio = poll_against_bare(server, base["queued"], htmx, postgres)
        load = asyncio.run(agents_and_uploads(filled, upload_photo.read_bytes()))
    queue = data(env, "workers", str(WORKER_ORDERS))

    print("  The poll (a queued order) against a bare view that loads the signed-in user,")
    print(f"  {CLIENTS} keep-alive clients, medians of {ROUNDS} alternating rounds:")
    for label, measured in (("empty database", empty_ratio), ("after the fill", full_ratio)):
        (bare, bare_cpu), (poll, poll_cpu) = measured["bare"], measured["poll"]
        print(
            f"    {label:16} bare {bare:5.0f}/s  poll {poll:5.0f}/s  {poll / bare:4.2f}× "
            f"(0.70× or more wanted); server CPU per request {bare_cpu * 1000:.2f} ms and "
            f"{poll_cpu * 1000:.2f} ms: {bare_cpu / poll_cpu:4.2f}×"
        )
    positions = filled["position_counts"]
    capped, whole = positions["capped_ms"], positions["whole_ms"]
    print(
        f"  Fill: {filled['orders']:,} orders ({filled['queued']:,} queued) over 501 agents "
        f"in {filled['seconds']:.1f} s"
    )
    print(
        f"    the poll's query, its queue place counted up to the cap ({positions['shown']} "
        f"shown): {capped:.2f} ms; counting all {positions['ahead']:,} orders ahead, as the "
        f"poll did before: {whole:.2f} ms ({whole / capped:.1f}×)"
    )
    print(
        f"  Median time, after the fill against the empty database ({PAGE_REPEATS} each), and "
        "that change over the bare view's (the machine's own drift):"
    )
    drift = full["bare view"] / empty["bare view"]
    for name in pages:
        label = f"{name} ({base['results']} results)" if name == "gallery" else name
        before, after = empty[name] * 1000, full[name] * 1000
        print(
            f"    {label:26} {before:7.1f} ms → {after:7.1f} ms  {after / before:5.2f}×"
            + ("" if name == "bare view" else f"  {after / before / drift:5.2f}× over the drift")
        )
    polls, uploads = load["polls"], load["uploads"]
    print(
        f"  {len(filled['agents'])} agents polling every 2 s for {LOAD_SECONDS:.0f} s; "
        f"{UPLOADERS} of them upload a {load['upload_mb']:.1f} MB 12 MP photo at the same time:"
    )
    for label, times, errors in (
        ("polls", polls, load["poll_errors"]),
        ("while uploading", load["during"], ""),
        ("uploads", uploads, load["upload_errors"]),
    ):
        print(
            f"    {len(times):5} {label:16} p50 {_pct(times, 50):7.0f} ms  "
            f"p99 {_pct(times, 99):7.0f} ms" + (f"  errors {errors}" if errors != "" else "")
        )
    for message in load["error_samples"]:
        print(f"      error: {message}")
    for line in log.read_text().splitlines():
        if "[CRITICAL]" in line or "[ERROR]" in line:
            print(f"      gunicorn: {line}")
    one, two = queue["rates"]["1"], queue["rates"]["2"]
    failed = one["failed"] + two["failed"]
    print(
        f"  Task queue, {queue['orders']} small local orders (image enhancement, 800 × 600), "
        "better of two runs each:"
    )
    print(f"    1 worker  {one['per_second']:5.2f} orders/s ({one['seconds']:.1f} s)")
    print(
        f"    2 workers {two['per_second']:5.2f} orders/s ({two['seconds']:.1f} s)  "
        f"{two['per_second'] / one['per_second']:.2f}×  (orders not done: {failed})\n"
    )


def _fresh_postgres() -> str:
    """The URL of an empty `bench_scale` database, or "" when PostgreSQL is not there."""
    if not shutil.which("createdb"):
        return ""
    common = ["-h", "127.0.0.1", "-U", "postgres"]
    probe = subprocess.run(["psql", *common, "-d", "postgres", "-Atc", "select 1"],
                           capture_output=True, text=True, timeout=10)  # fmt: skip
    if probe.returncode != 0:
        return ""
    subprocess.run(["dropdb", *common, "--if-exists", DATABASE], check=True)
    subprocess.run(["createdb", *common, DATABASE], check=True)
    return f"postgres://postgres@127.0.0.1:5432/{DATABASE}"


def data(env: dict, step: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.scale_data", step, *args],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"scale_data {step} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def throughput(path: str, headers: dict) -> float:
    return polling.throughput(PORT, path, headers, seconds=ROUND_SECONDS, clients=CLIENTS)


def poll_against_bare(server: subprocess.Popen, poll: str, headers: dict, postgres: bool) -> dict:
    """Requests per second of the bare view and of the poll, rounds alternating, medians;
    and the server's CPU time per request (gunicorn's workers and, on PostgreSQL, this
    database's backends), which other work on the machine disturbs less."""
    throughput("/bench/bare/", headers)  # warm up both
    throughput(poll, headers)
    rates: dict[str, list[float]] = {"bare": [], "poll": []}
    cpu: dict[str, list[float]] = {"bare": [], "poll": []}
    for _ in range(ROUNDS):
        for name, path in (("bare", "/bench/bare/"), ("poll", poll)):
            pids = _server_pids(server, postgres)
            before = _cpu_seconds(pids)
            rate = throughput(path, headers)
            rates[name].append(rate)
            cpu[name].append((_cpu_seconds(pids) - before) / (rate * ROUND_SECONDS))
    return {name: (statistics.median(rates[name]), statistics.median(cpu[name])) for name in rates}


def _server_pids(server: subprocess.Popen, postgres: bool) -> list[int]:
    workers = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    backends = []
    if postgres:
        backends = subprocess.run(["pgrep", "-f", f"postgres {DATABASE} "], capture_output=True,
                                  text=True).stdout.split()  # fmt: skip
    return [int(pid) for pid in (*workers, *backends)]


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def page_times(pages: dict[str, tuple[str, dict]]) -> dict[str, float]:
    """Median seconds per page, one keep-alive connection, the pages taking turns."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT)
    times: dict[str, list[float]] = {name: [] for name in pages}
    for repeat in range(PAGE_REPEATS + 2):
        for name, (path, headers) in pages.items():
            start = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, (path, response.status)
            if repeat >= 2:  # the first two warm the caches
                times[name].append(time.perf_counter() - start)
    connection.close()
    return {name: statistics.median(runs) for name, runs in times.items()}


async def agents_and_uploads(filled: dict, photo: bytes) -> dict:
    """Each agent polls its own queued order every 2 s (starts spread over the first 2 s);
    five others post photos as the upload page does, one after another, meanwhile."""
    # Idle connections are closed by the client after 1 s, before gunicorn's keep-alive
    # (2 s) would close them under a request on its way, as a browser's retry would hide.
    limits = httpx.Limits(max_connections=None, keepalive_expiry=1.0)
    timeout = httpx.Timeout(60.0)
    polls: list[float] = []
    during: list[float] = []  # the polls that started while an upload was on its way
    uploads: list[float] = []
    busy = [0]
    errors = {"poll": 0, "upload": 0}
    samples: list[str] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    until = start + LOAD_SECONDS

    def failed(kind: str, message: str) -> None:
        errors[kind] += 1
        if len(samples) < 5:
            samples.append(f"{kind}: {message}")

    async def agent(client: httpx.AsyncClient, index: int, session: str, path: str) -> None:
        at = start + 2.0 * index / len(filled["agents"])
        headers = {"Cookie": f"sessionid={session}", "HX-Request": "true"}
        while at < until:
            await asyncio.sleep(max(0.0, at - loop.time()))
            began, uploading = time.perf_counter(), busy[0] > 0
            try:
                response = await client.get(path, headers=headers)
                if response.status_code != 200:
                    failed("poll", f"{path} answered {response.status_code}")
            except httpx.HTTPError as error:
                failed("poll", repr(error))
            polls.append(time.perf_counter() - began)
            if uploading:
                during.append(polls[-1])
            at += 2.0

    async def uploader(client: httpx.AsyncClient, session: str, path: str) -> None:
        token = secrets.token_hex(16)  # the CSRF cookie's secret, sent back in the header
        headers = {
            "Cookie": f"sessionid={session}; csrftoken={token}",
            "X-CSRFToken": token,
            "Accept": "application/json",
        }
        # Together, a quarter into the run: the polls before, during and after them count.
        await asyncio.sleep(max(0.0, start + LOAD_SECONDS / 4 - loop.time()))
        files = {"photos": ("living-room.jpg", photo, "image/jpeg")}
        began = time.perf_counter()
        busy[0] += 1
        try:
            response = await client.post(path, files=files, headers=headers)
            if response.status_code != 201:
                failed("upload", f"{path}: {response.status_code} {response.text[:200]}")
        except httpx.HTTPError as error:
            failed("upload", repr(error))
        finally:
            busy[0] -= 1
        uploads.append(time.perf_counter() - began)

    base_url = f"http://127.0.0.1:{PORT}"
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        sessions = filled["agents"]
        tasks = [agent(client, n, session, path) for n, (session, path) in enumerate(sessions)]
        # Five of the agents upload to their own listings while their order page polls.
        tasks += [
            uploader(client, sessions[-1 - n][0], filled["uploads"][-1 - n])
            for n in range(UPLOADERS)
        ]
        await asyncio.gather(*tasks)
    return {
        "polls": polls,
        "during": during,
        "uploads": uploads,
        "poll_errors": errors["poll"],
        "upload_errors": errors["upload"],
        "error_samples": samples,
        "upload_mb": len(photo) / 1e6,
    }


def _pct(seconds: list[float], percent: int) -> float:
    if not seconds:
        return float("nan")
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))] * 1000
