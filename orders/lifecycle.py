"""The order lifecycle: the only module that writes Order.status.

queued → processing → succeeded | failed, and queued → cancelled. Each transition is a
conditional UPDATE from the states it may leave, so running a step twice (a worker that
crashed and was restarted, a webhook arriving beside a poll) changes nothing the second
time: no second charge, no second refund, no duplicate results.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from homedesign.accounts.credits import credits_charge, credits_refund
from homedesign.accounts.models import CreditEntry
from homedesign.projects.models import Photo
from maskeditor import masks
from maskeditor.models import Mask

from .catalog import MaskUse, clean_options, get_service
from .models import Order, OrderResult
from .remote import handover_discard

logger = logging.getLogger(__name__)
Status = Order.Status


class OrderRefused(Exception):
    """The order cannot be placed; the message is for the agent."""


@dataclass(frozen=True)
class ResultImage:
    """A finished image as a provider hands it over: encoded bytes and their facts."""

    full: bytes
    full_extension: str
    display: bytes
    thumbnail: bytes
    copies_extension: str
    width: int
    height: int


def order_place(
    *,
    user,
    photo: Photo,
    service: str,
    options: dict,
    mask: Mask | None = None,
    parent: Order | None = None,
) -> Order:
    """Check, charge and queue an order. `mask` is what the agent painted (True = edit), at
    the photo's size. Raises OrderRefused, MaskRejected or NotEnoughCredits."""
    info = get_service(service)
    if photo.project.owner_id != user.pk:
        raise OrderRefused("That photo is not yours.")
    try:
        options = clean_options(info, options)
    except ValueError as error:
        raise OrderRefused(str(error)) from None
    if info.mask == MaskUse.REQUIRED and mask is None:
        raise OrderRefused(f"{info.label} needs a mask: paint the area to change.")
    if mask is not None:
        if mask.photo_id != photo.pk:
            raise OrderRefused("That mask was painted on another photo. Paint this one.")
        masks.check_coverage(mask.painted_share, at_most=info.max_mask_share)
    if parent:
        if parent.photo_id != photo.pk or parent.service != service:
            raise OrderRefused("A variation must be of the same photo and service.")
        parent = parent.parent or parent  # variations hang off the first order, one level deep

    order = Order(
        owner=user,
        photo=photo,
        service=service,
        options=options,
        parent=parent,
        credits_charged=info.credits,
        mask=mask,
    )
    from .providers import provider_for, refusal  # the providers build on this module

    if provider_for(order) is None:
        raise OrderRefused(refusal(order))  # say so now, rather than charge and refund
    with transaction.atomic():
        order.save()
        credits_charge(user=user, amount=info.credits, order=order, key=f"charge:{order.pk}:1")
        transaction.on_commit(partial(_enqueue, order.pk))
    return order


def _enqueue(order_id) -> None:
    from .tasks import run_order_task

    run_order_task.enqueue(order_id=str(order_id))


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


def order_heartbeat(order: Order, *, progress: int | None = None, eta_seconds: int | None = None):
    """Renew the lease (and report progress) while the work goes on."""
    now = timezone.now()
    fields = {"lease_expires_at": now + _lease()}
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


def order_await(order: Order, *, state: dict, eta_seconds: int | None = None) -> None:
    """The provider took the job and finishes it remotely: remember the job and ask it for
    news from now on (a webhook may bring the news sooner)."""
    order_state_update(order, {**state, "remote": True})
    order_heartbeat(order, progress=10, eta_seconds=eta_seconds)
    order_poll_later(order)


def order_poll_later(order: Order, *, seconds: float | None = None) -> None:
    """Ask the provider for news after `seconds`. This poll supersedes any waiting one, so
    webhooks and the reaper never start a second chain of polls beside the first."""
    from .tasks import poll_order_task

    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(poll_token=F("poll_token") + 1)
        token = Order.objects.values_list("poll_token", flat=True).get(pk=order.pk)
    wait = settings.REMOTE_POLL_SECONDS if seconds is None else seconds
    run_after = timezone.now() + timedelta(seconds=wait)
    transaction.on_commit(
        lambda: poll_order_task.using(run_after=run_after).enqueue(
            order_id=str(order.pk), token=token
        )
    )


def order_defer(order: Order, *, seconds: float, message: str) -> bool:
    """processing → queued again, to be run after `seconds`: the provider is at its rate
    limit. The attempt does not count as a lost worker."""
    from .tasks import run_order_task

    with transaction.atomic():
        deferred = Order.objects.filter(pk=order.pk, status=Status.PROCESSING).update(
            status=Status.QUEUED,
            lease_expires_at=None,
            progress=0,
            message=message,
            attempts=max(0, order.attempts - 1),
        )
        if deferred:
            run_after = timezone.now() + timedelta(seconds=seconds)
            transaction.on_commit(
                lambda: run_order_task.using(run_after=run_after).enqueue(order_id=str(order.pk))
            )
    order.refresh_from_db()
    return bool(deferred)


def order_succeed(order: Order, images: list[ResultImage], *, note: str = "") -> bool:
    """Store the results and finish. Results already stored (a repeated step) are kept; an
    order that is no longer processing (reaped and failed meanwhile) gets none."""
    if not Order.objects.filter(pk=order.pk, status=Status.PROCESSING).exists():
        return False
    for index, image in enumerate(images):
        _store_result(order, index, image)
    done = Order.objects.filter(pk=order.pk, status=Status.PROCESSING).update(
        status=Status.SUCCEEDED,
        progress=100,
        finished_at=timezone.now(),
        lease_expires_at=None,
        message=note,
    )
    order.refresh_from_db()
    handover_discard(order)
    return bool(done)


def _store_result(order: Order, index: int, image: ResultImage) -> None:
    if OrderResult.objects.filter(order=order, index=index).exists():
        return
    result = OrderResult(
        order=order, index=index, width=image.width, height=image.height,
        byte_size=len(image.full),
    )  # fmt: skip
    number = index + 1
    result.full.save(f"result-{number}.{image.full_extension}", ContentFile(image.full), save=False)
    result.display.save(
        f"result-{number}-display.{image.copies_extension}", ContentFile(image.display), save=False
    )
    result.thumbnail.save(
        f"result-{number}-thumbnail.{image.copies_extension}",
        ContentFile(image.thumbnail),
        save=False,
    )
    try:
        with transaction.atomic():
            result.save()
    except IntegrityError:  # the same step ran twice at once; the other one's row stands
        for name in result.stored_files():
            result.full.storage.delete(name)


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
    handover_discard(order)
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
    """Staff send a failed or cancelled order round again; it is charged again."""
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
        transaction.on_commit(partial(_enqueue, order.pk))
    order.refresh_from_db()
    return True


def _charge_count(order: Order) -> int:
    return order.credit_entries.filter(kind=CreditEntry.Kind.CHARGE).count()


def order_reap(order: Order) -> bool:
    """A processing order whose lease ran out lost its worker: queue it again, or, after
    the last attempt, fail it with a refund."""
    if order.status != Status.PROCESSING or order.lease_expires_at > timezone.now():
        return False
    if order.provider_state.get("remote"):
        # The job runs at the provider; only our polling stopped. Sending it again would
        # pay the provider twice: ask it for news instead.
        logger.warning("Order %s: polling of its remote job had stopped; resumed", order.pk)
        order_heartbeat(order)
        order_poll_later(order, seconds=0)
        return True
    if order.provider_state.get("submitting"):
        # Lost while handing the job over: the provider may have it, unknown to us.
        return order_fail(
            order,
            message="The edit could not be confirmed; your credits are refunded. "
            "Please order it again.",
            detail=f"Worker lost while submitting to {order.provider}; not sent again, "
            "as a second submission could be a second paid job.",
        )
    if order.attempts < settings.ORDER_MAX_ATTEMPTS:
        with transaction.atomic():
            requeued = Order.objects.filter(
                pk=order.pk, status=Status.PROCESSING, lease_expires_at=order.lease_expires_at
            ).update(status=Status.QUEUED, lease_expires_at=None, progress=0)
            if requeued:
                logger.warning("Order %s lost its worker; queued again", order.pk)
                transaction.on_commit(partial(_enqueue, order.pk))
        order.refresh_from_db()
        return bool(requeued)
    return order_fail(
        order,
        message="The edit could not be finished; please try again later.",
        detail=f"Worker lost {order.attempts} times (lease expired); gave up.",
    )


def orders_reap_stranded() -> int:
    return sum(order_reap(order) for order in Order.objects.stranded())


def _lease() -> timedelta:
    return timedelta(seconds=settings.ORDER_LEASE_SECONDS)
