"""The order's state machine: the only module that writes Order.status.

queued → processing → succeeded | failed, and queued → cancelled. Each transition is a
conditional UPDATE from the states it may leave, so running a step twice (a worker that
crashed and was restarted, a webhook arriving beside a poll) changes nothing the second
time: no second charge, no second refund. Credits are charged when an order is accepted
and refunded when it fails or is cancelled; a worker holds a lease on the order it runs.

Nothing here enqueues work or talks to providers: the flows in orders/services.py and
orders/processing.py do, around these transitions.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from homedesign.accounts.credits import credits_charge, credits_refund
from homedesign.accounts.models import CreditEntry

from .models import Order, OrderProgress

Status = Order.Status


def order_accept(order: Order) -> None:
    """Save a new order as queued and charge its credits, in one transaction: an order that
    exists has been paid for. Raises NotEnoughCredits (and saves nothing)."""
    with transaction.atomic():
        order.save()
        credits_charge(
            user=order.owner, amount=order.credits_charged, order=order, key=f"charge:{order.pk}:1"
        )


def order_claim(order: Order) -> bool:
    """queued → processing for this worker, with a lease it must keep renewing."""
    now = timezone.now()
    claimed = Order.objects.filter(pk=order.pk, status=Status.QUEUED).update(
        status=Status.PROCESSING,
        started_at=now,
        lease_expires_at=now + _lease(),
        attempts=order.attempts + 1,
        progress=0,
        message="",
        provider_state={},
    )
    order.refresh_from_db()
    return bool(claimed)


def order_heartbeat(
    order: Order, *, progress: int | None = None, eta_seconds: int | None = None
) -> None:
    """Renew the lease (and report progress) while the work goes on."""
    now = timezone.now()
    fields: dict = {"lease_expires_at": now + _lease()}
    if progress is not None:
        fields["progress"] = max(0, min(99, progress))
    if eta_seconds is not None:
        fields["eta"] = now + timedelta(seconds=eta_seconds)
    Order.objects.filter(pk=order.pk, status=Status.PROCESSING).update(**fields)
    for name, value in fields.items():
        setattr(order, name, value)


def order_record_provider(order: Order, *, provider: str, ref: str = "") -> None:
    fields = {"provider": provider, "provider_ref": ref}
    Order.objects.filter(pk=order.pk).update(**fields)
    for name, value in fields.items():
        setattr(order, name, value)


def order_state_update(order: Order, state: dict) -> None:
    """Merge what a provider learned about its remote job into provider_state, under a row
    lock: a webhook and a poll may both be writing."""
    with transaction.atomic():
        current = Order.objects.select_for_update().values_list("provider_state", flat=True)
        merged = {**current.get(pk=order.pk), **state}
        Order.objects.filter(pk=order.pk).update(provider_state=merged)
    order.provider_state = merged


def order_next_poll(order: Order) -> int:
    """A new poll token: only the poll holding the latest one runs, so a webhook or the
    reaper asking for news sooner supersedes the poll already waiting."""
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(poll_token=F("poll_token") + 1)
        order.poll_token = Order.objects.values_list("poll_token", flat=True).get(pk=order.pk)
    return order.poll_token


def order_defer(order: Order, *, message: str) -> bool:
    """processing → queued again: the provider is at its rate limit. The attempt does not
    count as a lost worker."""
    deferred = Order.objects.filter(pk=order.pk, status=Status.PROCESSING).update(
        status=Status.QUEUED,
        lease_expires_at=None,
        progress=0,
        message=message,
        attempts=max(0, order.attempts - 1),
    )
    order.refresh_from_db()
    return bool(deferred)


def order_succeed(order: Order, *, note: str = "") -> bool:
    """processing → succeeded, once its results are stored."""
    done = Order.objects.filter(pk=order.pk, status=Status.PROCESSING).update(
        status=Status.SUCCEEDED,
        progress=100,
        finished_at=timezone.now(),
        lease_expires_at=None,
        message=note,
    )
    order.refresh_from_db()
    return bool(done)


def order_fail(order: Order, *, message: str, detail: str = "") -> bool:
    """Finish as failed and give the credits back."""
    failed = Order.objects.filter(pk=order.pk, status__in=Order.UNFINISHED).update(
        status=Status.FAILED,
        finished_at=timezone.now(),
        lease_expires_at=None,
        message=message,
        error_detail=detail,
    )
    order.refresh_from_db()
    _refund(order)
    return bool(failed)


def order_cancel(order: Order) -> bool:
    """Only a queued order can be cancelled; its credits come back."""
    cancelled = Order.objects.filter(pk=order.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED,
        finished_at=timezone.now(),
        message="Cancelled before it started.",
    )
    order.refresh_from_db()
    _refund(order)
    return bool(cancelled)


def order_refund(order: Order) -> bool:
    """Staff give the credits back for a finished order (an unhappy customer)."""
    if not order.is_finished:
        return False
    return _refund(order, force=True)


def _refund(order: Order, *, force: bool = False) -> bool:
    if order.status not in (Status.FAILED, Status.CANCELLED) and not force:
        return False
    owed = order.credits_charged - order.credits_refunded
    if owed <= 0:
        return False
    with transaction.atomic():
        # One refund per charge: the key names the charge it pays back.
        key = f"refund:{order.pk}:{_charge_count(order)}"
        booked = credits_refund(user=order.owner, amount=owed, order=order, key=key)
        if booked:
            Order.objects.filter(pk=order.pk).update(credits_refunded=order.credits_charged)
    order.refresh_from_db()
    return bool(booked)


def order_retry(order: Order) -> bool:
    """A failed or cancelled order → queued again, charged again. Raises NotEnoughCredits."""
    if order.status not in (Status.FAILED, Status.CANCELLED):
        return False
    with transaction.atomic():
        requeued = Order.objects.filter(pk=order.pk, status=order.status).update(
            status=Status.QUEUED,
            progress=0,
            message="",
            error_detail="",
            finished_at=None,
            credits_charged=order.service_info.credits,
            credits_refunded=0,
            attempts=0,
        )
        if not requeued:
            return False
        credits_charge(
            user=order.owner,
            amount=order.service_info.credits,
            order=order,
            key=f"charge:{order.pk}:{_charge_count(order) + 1}",
        )
    order.refresh_from_db()
    return True


def _charge_count(order: Order) -> int:
    return order.credit_entries.filter(kind=CreditEntry.Kind.CHARGE).count()


def order_is_stranded(order: Order | OrderProgress) -> bool:
    """Processing, but its worker has not reported within its lease: the worker died."""
    lease = order.lease_expires_at
    return order.status == Status.PROCESSING and lease is not None and lease <= timezone.now()


def order_requeue(order: Order) -> bool:
    """A stranded order → queued again, for another worker (unless one renewed it meanwhile)."""
    requeued = Order.objects.filter(
        pk=order.pk, status=Status.PROCESSING, lease_expires_at=order.lease_expires_at
    ).update(status=Status.QUEUED, lease_expires_at=None, progress=0)
    order.refresh_from_db()
    return bool(requeued)


def _lease() -> timedelta:
    return timedelta(seconds=settings.ORDER_LEASE_SECONDS)
