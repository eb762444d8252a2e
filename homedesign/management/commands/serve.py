"""Start the web server and the task workers, keep them running, stop them on Ctrl-C.

This is what `make run` ends with (`--role all`). On several machines, `--role web` runs
the web server only and `--role worker` the task workers only (TASK_WORKERS of them); they
share the database, the queue (Redis) and the files (a bucket), see README.md.

Before starting, the web role brings the database and the static files up to date and says
what it did, so `manage.py serve` works on a fresh checkout; a worker-only machine waits for
that. The web server is gunicorn (static files by whitenoise); workers run at a lower CPU
priority so image jobs do not starve page loads. A process that dies is started again after
a pause that doubles while it keeps dying (1 s up to a minute); the others keep going.
"""

import contextlib
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from homedesign.taskrows import task_rows_fail_of_worker, task_rows_reap_stale
from orders.services import listing_zips_reap_stranded, orders_reap_stranded

logger = logging.getLogger("homedesign.serve")

ROLES = ("all", "web", "worker")
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0
# A process that stayed up this long counts as healthy: its next death waits 1 s again.
HEALTHY_AFTER_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30


@dataclass
class Child:
    """One supervised process: how to start it, and when it may be started again."""

    label: str
    command: Callable[[int], list[str]]  # the command line of the n-th start
    nice: int = 0
    worker_number: int = 0  # task workers: 1, 2…; the web server: 0
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF_SECONDS
    restart_at: float | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        nice = self.nice
        self.process = subprocess.Popen(
            self.command(self.starts),
            # Its own process group, so a dead gunicorn's orphaned workers can be cleared
            # before a new one binds the port. Ctrl-C reaches us; we stop the children.
            process_group=0,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        logger.info("Started the %s (pid %d)", self.label, self.process.pid)

    def died(self) -> int | None:
        """The exit code if it has just been found dead, else None."""
        if self.process is None or self.restart_at is not None:
            return None
        return self.process.poll()

    def schedule_restart(self, code: int) -> None:
        assert self.process is not None
        _kill_group(self.process.pid)
        if time.monotonic() - self.started_at >= HEALTHY_AFTER_SECONDS:
            self.backoff = FIRST_BACKOFF_SECONDS
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited ({code})"
        logger.error(
            "The %s (pid %d) %s; starting it again in %.0f s",
            self.label,
            self.process.pid,
            how,
            self.backoff,
        )
        self.restart_at = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGTERM lets the worker finish its current task and gunicorn its requests.
            self.process.terminate()

    def wait_stopped(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        _kill_group(self.process.pid)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


class Command(BaseCommand):
    help = (
        "Run the web server (gunicorn) and the task workers, restarting any that dies. "
        "Applies migrations and collects static files first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--role",
            choices=ROLES,
            default=os.environ.get("SERVE_ROLE", "all"),
            help="web: the web server only; worker: the task workers only; all: both",
        )
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument("--workers", type=int, default=settings.TASK_WORKERS)

    def handle(
        self, *args, role: str, host: str, port: int, web_workers: int, workers: int, **options
    ) -> None:
        serves_web = role in ("all", "web")
        if serves_web:
            _refuse_a_busy_port(host, port)
            self.prepare()
        else:
            self.wait_for_migrations()
        children = []
        if serves_web:
            children.append(Child("web server", _gunicorn(host, port, web_workers)))
        if role in ("all", "worker"):
            children += [
                Child(
                    "task worker" if workers == 1 else f"task worker {number}",
                    _worker_command(number),
                    nice=10,
                    worker_number=number,
                )
                for number in range(1, workers + 1)
            ]

        def stop(signum, frame) -> None:
            raise KeyboardInterrupt

        # Set explicitly: a shell starting us in the background leaves SIGINT ignored.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)
        try:
            for child in children:
                child.start()
            if serves_web:
                shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
                message = f"homedesign is running at http://{shown_host}:{port}/"
            else:
                message = f"{len(children)} task worker(s) running"
            self.stdout.write(self.style.SUCCESS(f"\n{message}  (Ctrl-C stops it)\n"))
            self.supervise(children, reaps=role != "web")
        except KeyboardInterrupt:
            workers_said = "the worker" if workers == 1 else "the workers"
            said = {"all": f"the web server and {workers_said}", "web": "the web server"}
            self.stdout.write(f"\nStopping {said.get(role, workers_said)}…")
        finally:
            for child in children:
                child.stop()
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            for child in children:
                child.wait_stopped(deadline)

    def supervise(self, children: list[Child], *, reaps: bool) -> None:
        """Restart what dies; where workers run, recover the orders a lost worker held."""
        next_reap = 0.0
        while True:
            now = time.monotonic()
            for child in children:
                code = child.died()
                if code is not None:
                    child.schedule_restart(code)
                    if child.worker_number and _database_queue():
                        worker_id = _worker_id(child.worker_number, child.starts)
                        self.tidy(task_rows_fail_of_worker, worker_id=worker_id)
                if child.restart_at is not None and now >= child.restart_at:
                    child.start()
            if reaps and now >= next_reap:
                # Orders and listing ZIPs whose worker was killed mid-job go round again
                # (or are failed, orders refunded); the task rows that worker left RUNNING
                # are closed first, while their orders still look stranded. (RQ tidies its
                # own registries.)
                if _database_queue():
                    self.tidy(task_rows_reap_stale)
                self.tidy(orders_reap_stranded)
                self.tidy(listing_zips_reap_stranded)
                next_reap = now + settings.ORDER_REAP_SECONDS
            time.sleep(0.2)

    def tidy(self, function: Callable[..., int], **kwargs) -> None:
        """A failed clean-up (say, the database is down) is logged; the site stays up."""
        try:
            function(**kwargs)
        except Exception:
            logger.exception("%s failed; trying again later", function.__name__)

    def prepare(self) -> None:
        """Database tables and static files up to date, each step reported."""
        pending = _pending_migrations()
        if pending:
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write(f"Applied {len(pending)} database migration(s).")
        summary = call_command(
            "collectstatic", interactive=False, verbosity=1, stdout=io.StringIO()
        )
        self.stdout.write(f"Static files: {summary.strip()}")

    def wait_for_migrations(self) -> None:
        """A worker machine never migrates (two machines migrating at once would clash):
        it waits until the web role has, so it never runs code against old tables."""
        said = False
        while _pending_migrations():
            if not said:
                self.stdout.write("Waiting for the web role to apply the database migrations…")
                said = True
            time.sleep(2)
            connections[DEFAULT_DB_ALIAS].close()


def _pending_migrations() -> list:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def _database_queue() -> bool:
    return settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def _gunicorn(host: str, port: int, web_workers: int) -> Callable[[int], list[str]]:
    command = [
        sys.executable, "-m", "gunicorn", "homedesign.wsgi",
        "--bind", f"{host}:{port}",
        "--workers", str(web_workers),
        "--threads", "4",
        "--access-logfile", "-",
        "--graceful-timeout", "10",
        "--no-control-socket",  # a second instance would fight over its socket file
    ]  # fmt: skip
    return lambda start: command


def _worker_command(number: int) -> Callable[[int], list[str]]:
    """The n-th start of worker `number`: the database queue's worker, or RQ's (with its
    scheduler, which runs delayed jobs such as the polls of remote providers)."""

    def command(start: int) -> list[str]:
        name = _worker_id(number, start)
        if _database_queue():
            return [sys.executable, "manage.py", "db_worker", "--worker-id", name]
        return [
            sys.executable, "manage.py", "rqworker", "default",
            "--with-scheduler", "--job-class", "django_tasks_rq.Job", "--name", name,
        ]  # fmt: skip

    return command


def _worker_id(number: int, start: int) -> str:
    """Known to us, so the rows a dead worker left RUNNING can be found and closed."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{number}-{start}"


def _refuse_a_busy_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({exc.strerror}). Is homedesign already "
                "running? Stop it, or pick another port: PORT=8080 make run"
            ) from None
