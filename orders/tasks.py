"""The task queue's side of orders: the tasks a worker runs, and how they get queued.

A task calls a step in orders.processing and schedules the follow-up that step asks for.
Everything is enqueued on commit, so a worker never picks up an order whose transaction
has not landed.
"""

from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from homedesign.projects.services import photo_shared_copy

from . import delivery, lifecycle, processing
from .models import ListingZip, Order, OrderResult, ShareLink


@task()
def run_order_task(order_id: str) -> None:
    follow_up(order_id, processing.order_run(order_id=order_id))


@task()
def poll_order_task(order_id: str, token: int | None = None) -> None:
    follow_up(order_id, processing.order_poll(order_id=order_id, token=token))


@task()
def share_originals_task(link_id: str) -> None:
    """The clean full-size copies a share link offers, made once per photo."""
    link = ShareLink.objects.get(pk=link_id)
    for photo in link.shared_photos():
        photo_shared_copy(photo=photo)


@task()
def deliver_results_task(result_ids: list[str]) -> None:
    """The delivered files (sizes, label) of these results as their listing now wants them."""
    results = OrderResult.objects.filter(pk__in=result_ids).select_related("order__photo__project")
    delivery.results_deliver(list(results))


def deliver_results_enqueue(result_ids: list[str]) -> None:
    if result_ids:
        transaction.on_commit(lambda: deliver_results_task.enqueue(result_ids=result_ids))


@task()
def listing_zip_task(zip_id: str) -> None:
    delivery.listing_zip_build(ListingZip.objects.select_related("project").get(pk=zip_id))


def listing_zip_enqueue(zip_id: str | UUID) -> None:
    transaction.on_commit(lambda: listing_zip_task.enqueue(zip_id=str(zip_id)))


def share_originals_enqueue(link_id: str | UUID) -> None:
    transaction.on_commit(lambda: share_originals_task.enqueue(link_id=str(link_id)))


def follow_up(order_id: str, step: processing.FollowUp) -> None:
    if step.run_in is not None:
        order_enqueue(order_id, seconds=step.run_in)
    if step.poll_in is not None:
        order_poll_later(Order.objects.get(pk=order_id), seconds=step.poll_in)


def order_enqueue(order_id: str | UUID, *, seconds: float = 0) -> None:
    """Have a worker run the order (after `seconds`), once the transaction commits."""
    queued = run_order_task.using(run_after=_in(seconds)) if seconds else run_order_task
    transaction.on_commit(lambda: queued.enqueue(order_id=str(order_id)))


def order_poll_later(order: Order, *, seconds: float | None = None) -> None:
    """Have a worker ask the provider for news after `seconds`. This poll supersedes any
    waiting one, so webhooks and the reaper never start a second chain beside the first."""
    token = lifecycle.order_next_poll(order)
    wait = settings.REMOTE_POLL_SECONDS if seconds is None else seconds
    poll = poll_order_task.using(run_after=_in(wait))
    transaction.on_commit(lambda: poll.enqueue(order_id=str(order.pk), token=token))


def _in(seconds: float) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)
