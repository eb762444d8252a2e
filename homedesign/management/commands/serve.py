"""Start the web server and the task worker together; stop both on Ctrl-C.

This is what `make run` ends with. The web server is gunicorn (static files by whitenoise);
the worker runs at a lower CPU priority so image jobs do not starve page loads.
"""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from orders.services import orders_reap_stranded

REAP_EVERY_SECONDS = 60


class Command(BaseCommand):
    help = "Run the web server (gunicorn) and the task worker (db_worker) together."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )

    def handle(self, *args, host: str, port: int, web_workers: int, **options) -> None:
        python = sys.executable
        web = subprocess.Popen(
            [
                python, "-m", "gunicorn", "homedesign.wsgi",
                "--bind", f"{host}:{port}",
                "--workers", str(web_workers),
                "--threads", "4",
                "--access-logfile", "-",
                "--graceful-timeout", "10",
                "--no-control-socket",  # a second instance would fight over its socket file
            ]
        )  # fmt: skip
        worker = subprocess.Popen(
            [python, "manage.py", "db_worker"], preexec_fn=lambda: os.nice(10)
        )
        children = [web, worker]

        def stop(signum, frame) -> None:
            raise KeyboardInterrupt

        # Set explicitly: a shell starting us in the background leaves SIGINT ignored.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)
        shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        self.stdout.write(
            self.style.SUCCESS(
                f"\nhomedesign is running at http://{shown_host}:{port}/  (Ctrl-C stops it)\n"
            )
        )
        exit_code = 0
        next_reap = 0.0
        try:
            while all(child.poll() is None for child in children):
                if time.monotonic() >= next_reap:
                    # Orders whose worker was killed mid-job go round again (or are refunded).
                    orders_reap_stranded()
                    next_reap = time.monotonic() + REAP_EVERY_SECONDS
                time.sleep(0.5)
            exit_code = 1
            self.stderr.write("The web server or the worker stopped; stopping the other.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the web server and the worker…")
        finally:
            for child in children:
                if child.poll() is None:
                    # SIGTERM lets the worker finish its current task and gunicorn its requests.
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
        sys.exit(exit_code)
