"""Task rows left RUNNING by a worker that died.

django-tasks-db marks a row RUNNING when a worker claims it and only its worker ever moves it
on: a worker killed mid-task (SIGKILL, out of memory) leaves it RUNNING forever. The order
side already notices such a death (the order's lease runs out, see Order.objects.stranded())
and recovers the order; these functions close the matching task rows as failed, so the queue's
own records tell the truth too. The order's status is ours and never read from these rows.
"""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from orders.models import ListingZip, Order

logger = logging.getLogger(__name__)

LOST = "homedesign.taskrows.WorkerLost"


def task_rows_fail_of_worker(*, worker_id: str) -> int:
    """Close the rows a worker known to be dead was running (serve saw it exit)."""
    rows = [
        row.pk
        for row in DBTaskResult.objects.running().only("pk", "worker_ids")
        if row.worker_ids and row.worker_ids[-1] == worker_id
    ]
    return _fail(rows, reason=f"Worker {worker_id} stopped while running this task.")


def task_rows_reap_stale(*, now: datetime | None = None) -> int:
    """Close the running rows of order (and listing ZIP) tasks whose worker the order (or
    ZIP) side counts as lost.

    Run it just before the order reaper, so an order it is about to recover is still seen
    as stranded. A row is stale when its order is stranded (no report within the lease),
    when it belongs to an earlier attempt than the one running now, or when its order has
    moved on (queued again, finished or deleted) more than a lease ago.
    """
    now = now or timezone.now()
    lease = timedelta(seconds=settings.ORDER_LEASE_SECONDS)
    rows = list(DBTaskResult.objects.running().only("pk", "args_kwargs", "started_at"))
    order_ids = {row.pk: _kwarg_id(row, "order_id") for row in rows}
    orders = Order.objects.in_bulk([i for i in order_ids.values() if i])
    stale = _stale_zip_rows(rows, now=now)
    for row in rows:
        order_id = order_ids[row.pk]
        if order_id is None:
            continue  # not an order task: nothing tells us whether its worker lives
        order = orders.get(order_id)
        started = row.started_at or now
        if order is None or order.status != Order.Status.PROCESSING:
            if started < now - lease:
                stale.append(row.pk)
        elif order.lease_expires_at is None or order.lease_expires_at < now:
            stale.append(row.pk)
        elif order.started_at and started < order.started_at - lease:
            # The order was claimed again after this row's lease ran out.
            stale.append(row.pk)
    return _fail(stale, reason="The worker running this task stopped reporting (lease expired).")


def _stale_zip_rows(rows: list[DBTaskResult], *, now: datetime) -> list:
    """Rows of listing ZIP builds whose ZIP has been silent past its deadline (its worker
    died), or has moved on (queued again, finished, deleted) more than a deadline ago."""
    deadline = now - timedelta(seconds=settings.LISTING_ZIP_STALE_SECONDS)
    zip_ids = {row.pk: _kwarg_id(row, "zip_id") for row in rows}
    archives = ListingZip.objects.in_bulk([i for i in zip_ids.values() if i])
    stale = []
    for row in rows:
        if zip_ids[row.pk] is None:
            continue
        archive = archives.get(zip_ids[row.pk])
        if archive is None or archive.status != ListingZip.Status.BUILDING:
            if (row.started_at or now) < deadline:
                stale.append(row.pk)
        elif archive.heartbeat_at is None or archive.heartbeat_at < deadline:
            stale.append(row.pk)
    return stale


def _kwarg_id(row: DBTaskResult, name: str) -> uuid.UUID | None:
    kwargs = (row.args_kwargs or {}).get("kwargs") or {}
    try:
        return uuid.UUID(str(kwargs[name]))
    except (KeyError, ValueError):
        return None


def _fail(pks: list, *, reason: str) -> int:
    if not pks:
        return 0
    # Only rows still RUNNING: a worker that was merely slow may have finished meanwhile.
    count = DBTaskResult.objects.filter(pk__in=pks, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path=LOST,
        traceback=f"{reason} Its task row was closed by homedesign's reaper.\n",
        return_value=None,
    )
    if count:
        logger.warning("Closed %d task row(s) of a lost worker: %s", count, reason)
    return count
