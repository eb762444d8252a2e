"""The task queue as the tests see it, whichever backend this run uses: the database queue
(the default) or RQ on Redis (REDIS_URL, the scale-out run)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management import call_command


@dataclass
class Queued:
    task_path: str
    kwargs: dict[str, Any]
    run_after: datetime | None


def on_redis() -> bool:
    return bool(settings.REDIS_URL)


def queued(task_path: str | None = None) -> list[Queued]:
    """The tasks waiting to run (now or later), oldest first."""
    if on_redis():
        tasks = _rq_queued()
    else:
        from django_tasks_db.models import DBTaskResult

        rows = DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
        tasks = [
            Queued(row.task_path, (row.args_kwargs or {}).get("kwargs") or {}, row.run_after)
            for row in rows
        ]
    return [task for task in tasks if task_path is None or task.task_path == task_path]


def queue_clear() -> None:
    if on_redis():
        from rq.registry import ScheduledJobRegistry

        queue = _rq_queue()
        queue.empty()
        scheduled = ScheduledJobRegistry(queue=queue)
        for job_id in scheduled.get_job_ids():
            scheduled.remove(job_id, delete_job=True)
    else:
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.all().delete()


def work_queue() -> None:
    """Run, in this process, every task that is due, as a worker would; then return."""
    if on_redis():
        # SimpleWorker runs jobs in this process (no fork), so it sees this test's data; the
        # scheduler first queues the delayed tasks that are due (polls of remote jobs).
        call_command(
            "rqworker", "default", "--burst", "--with-scheduler",
            "--worker-class", "rq.worker.SimpleWorker", "--job-class", "django_tasks_rq.Job",
            verbosity=0,
        )  # fmt: skip
    else:
        call_command("db_worker", "--batch")


def _rq_queue() -> Any:
    import django_rq

    return django_rq.get_queue("default")


def _rq_queued() -> list[Queued]:
    from django_tasks_rq import Job
    from rq.registry import ScheduledJobRegistry

    queue = _rq_queue()
    scheduled = ScheduledJobRegistry(queue=queue)
    ids = [(job_id, None) for job_id in queue.get_job_ids()] + [
        (job_id, scheduled.get_scheduled_time(job_id)) for job_id in scheduled.get_job_ids()
    ]
    tasks = []
    for job_id, run_after in ids:
        job = Job.fetch(job_id, connection=queue.connection)
        tasks.append(
            (job.enqueued_at or job.created_at, Queued(job.func_name, job.kwargs, run_after))
        )
    return [task for _, task in sorted(tasks, key=lambda pair: pair[0])]
