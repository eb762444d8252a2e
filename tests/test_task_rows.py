"""Task rows a dead worker left RUNNING are closed where the order reaper recovers orders."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from homedesign.taskrows import task_rows_fail_of_worker, task_rows_reap_stale
from orders import lifecycle, services
from orders.models import Order
from orders.tasks import poll_order_task, run_order_task

from .factories import make_order, make_photo

# The rows of the database queue, which RQ does not have.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_queue")]


@pytest.fixture
def order(project):
    return make_order(make_photo(project))


def running_row(task, *, worker_id: str, **kwargs) -> DBTaskResult:
    """A row as a db_worker leaves it once it has claimed the task."""
    row = DBTaskResult.objects.get(pk=task.enqueue(**kwargs).id)
    row.claim(worker_id)
    return row


def status(row: DBTaskResult) -> str:
    return DBTaskResult.objects.get(pk=row.pk).status


def expire_lease(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def test_the_row_of_a_stranded_order_is_failed_and_the_order_queued_again(order):
    row = running_row(run_order_task, worker_id="killed", order_id=str(order.pk))
    lifecycle.order_claim(order)
    expire_lease(order)

    assert task_rows_reap_stale() == 1
    assert services.orders_reap_stranded() == 1

    row.refresh_from_db()
    assert row.status == "FAILED"
    assert row.finished_at is not None
    assert row.exception_class_path == "homedesign.taskrows.WorkerLost"
    assert "lease expired" in row.traceback
    assert Order.objects.get(pk=order.pk).status == "queued"


def test_the_row_of_an_order_still_being_worked_on_is_left_alone(order):
    row = running_row(run_order_task, worker_id="alive", order_id=str(order.pk))
    lifecycle.order_claim(order)

    assert task_rows_reap_stale() == 0
    assert status(row) == "RUNNING"


def test_a_row_of_an_earlier_attempt_is_failed_while_a_new_worker_runs_the_order(order, settings):
    old = running_row(run_order_task, worker_id="killed", order_id=str(order.pk))
    DBTaskResult.objects.filter(pk=old.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.ORDER_LEASE_SECONDS + 60)
    )
    current = running_row(run_order_task, worker_id="new", order_id=str(order.pk))
    lifecycle.order_claim(order)

    assert task_rows_reap_stale() == 1
    assert (status(old), status(current)) == ("FAILED", "RUNNING")


def test_a_row_whose_order_was_recovered_elsewhere_is_failed_once_a_lease_has_passed(
    order, settings
):
    """The order page also reaps orders; the row it leaves behind is closed later."""
    row = running_row(poll_order_task, worker_id="killed", order_id=str(order.pk))
    assert Order.objects.get(pk=order.pk).status == "queued"

    assert task_rows_reap_stale() == 0  # it may just be finishing
    later = timezone.now() + timedelta(seconds=settings.ORDER_LEASE_SECONDS + 1)
    assert task_rows_reap_stale(now=later) == 1
    assert status(row) == "FAILED"


def test_the_rows_of_a_worker_that_died_are_failed_and_no_others(order):
    dead = running_row(run_order_task, worker_id="host-1-1", order_id=str(order.pk))
    alive = running_row(poll_order_task, worker_id="host-1-2", order_id=str(order.pk))
    done = running_row(poll_order_task, worker_id="host-1-1", order_id=str(order.pk))
    done.set_successful(None)

    assert task_rows_fail_of_worker(worker_id="host-1-1") == 1

    assert [status(r) for r in (dead, alive, done)] == ["FAILED", "RUNNING", "SUCCESSFUL"]
    assert "host-1-1 stopped" in DBTaskResult.objects.get(pk=dead.pk).traceback


def test_reap_orders_from_cron_closes_the_rows_too(order):
    row = running_row(run_order_task, worker_id="killed", order_id=str(order.pk))
    lifecycle.order_claim(order)
    expire_lease(order)
    out = io.StringIO()

    call_command("reap_orders", stdout=out)

    assert out.getvalue().splitlines() == [
        "1 stranded order handled.",
        "1 task row of lost workers closed.",
    ]
    assert status(row) == "FAILED"
