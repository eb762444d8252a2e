"""What a worker does with an order: run it through its provider, follow a remote job,
store the results. Tasks (orders/tasks.py) call these and schedule what they return next;
nothing here enqueues, so the queue's side and the work's side do not import each other.
"""

import logging
import traceback
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import delivery, lifecycle
from .models import Order, OrderResult
from .providers import REGISTRY, candidates, refusal
from .providers.base import Provider, ProviderBusy, ProviderError, Report, ResultImage
from .providers.handover import handover_discard

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowUp:
    """What the queue does next with an order after a step: nothing (finished, or not
    ours to touch), run it again later (the provider is at its rate limit), or ask its
    provider for news later (a remote job is running)."""

    run_in: float | None = None
    poll_in: float | None = None


DONE = FollowUp()


def order_run(*, order_id: str) -> FollowUp:
    order = Order.objects.select_related("photo", "owner", "mask").get(pk=order_id)
    if not lifecycle.order_claim(order):
        return DONE  # finished, cancelled, or another worker has it
    providers = candidates(order)
    if not providers:
        order_fail(order, message=refusal(order))
        return DONE

    for index, provider in enumerate(providers):
        lifecycle.order_record_provider(order, provider=provider.name)
        lifecycle.order_state_update(order, {"submitting": provider.bills_per_job})
        try:
            outcome = provider.submit(order, _reporter(order))
        except ProviderBusy as busy:
            lifecycle.order_defer(order, message=busy.message)
            return FollowUp(run_in=busy.retry_after)
        except ProviderError as error:
            if not error.permanent and not error.maybe_started and index + 1 < len(providers):
                # A provider that is down now: the next one in the list may serve it.
                logger.warning("Order %s: %s failed (%s); trying the next provider",
                               order.pk, provider.name, error.detail)  # fmt: skip
                continue
            order_fail(order, message=error.message, detail=error.detail or repr(error))
            return DONE
        except Exception:
            _crashed(order, provider)
            return DONE
        break
    if outcome.ref:
        lifecycle.order_record_provider(order, provider=provider.name, ref=outcome.ref)
    if outcome.images is not None:
        order_finish(order, outcome.images, note=outcome.note)
        return DONE
    # Handed over: the job runs at the provider, followed by polls from now on (a webhook
    # may bring the news sooner).
    lifecycle.order_state_update(order, {**outcome.state, "remote": True})
    lifecycle.order_heartbeat(order, progress=10, eta_seconds=outcome.eta_seconds)
    return FollowUp(poll_in=settings.REMOTE_POLL_SECONDS)


def order_poll(*, order_id: str, token: int | None = None) -> FollowUp:
    """Ask the provider for news of the order's remote job; finish it or look again later.
    A poll whose token is not the order's latest was superseded by a sooner one."""
    order = Order.objects.select_related("photo", "owner", "mask").get(pk=order_id)
    if order.status != Order.Status.PROCESSING or not order.provider_state.get("remote"):
        return DONE  # finished meanwhile (a webhook and a poll raced), or not a remote job
    if token is not None and token != order.poll_token:
        return DONE
    provider = REGISTRY[order.provider]
    waited = (timezone.now() - (order.started_at or timezone.now())).total_seconds()
    if waited > settings.REMOTE_MAX_WAIT_SECONDS:
        order_fail(
            order,
            message=f"{provider.label} did not finish this edit in time; please try again.",
            detail=f"No result after {waited / 60:.0f} minutes.",
        )
        return DONE
    try:
        outcome = provider.poll(order, _reporter(order))
    except ProviderBusy as busy:  # rate-limited while following the job: look later
        lifecycle.order_heartbeat(order)
        return FollowUp(poll_in=min(busy.retry_after, settings.ORDER_LEASE_SECONDS / 2))
    except ProviderError as error:
        if error.permanent:
            order_fail(order, message=error.message, detail=error.detail or repr(error))
            return DONE
        # The provider is unreachable for now; the job may still be running there.
        logger.warning("Order %s: polling %s failed (%s)", order.pk, provider.name, error)
        lifecycle.order_heartbeat(order)
        return FollowUp(poll_in=settings.REMOTE_POLL_SECONDS)
    except Exception:
        _crashed(order, provider)
        return DONE
    if outcome.state:
        lifecycle.order_state_update(order, outcome.state)
    if outcome.images is not None:
        order_finish(order, outcome.images, note=outcome.note)
        return DONE
    lifecycle.order_heartbeat(order, eta_seconds=outcome.eta_seconds)
    return FollowUp(poll_in=settings.REMOTE_POLL_SECONDS)


def order_finish(order: Order, images: list[ResultImage], *, note: str = "") -> bool:
    """Store the results and finish. Results already stored (a repeated step) are kept; an
    order that is no longer processing (reaped and failed meanwhile) gets none."""
    if not Order.objects.filter(pk=order.pk, status=Order.Status.PROCESSING).exists():
        return False
    for index, image in enumerate(images):
        _store_result(order, index, image)
    done = lifecycle.order_succeed(order, note=note)
    handover_discard(order)
    if done:
        # The sizes and labelled files the listing delivers, made once, here in the worker.
        delivery.results_deliver(list(order.results.select_related("order__photo__project")))
    return done


def order_fail(order: Order, *, message: str, detail: str = "") -> bool:
    """Fail and refund the order, and withdraw whatever was handed to its provider."""
    failed = lifecycle.order_fail(order, message=message, detail=detail)
    handover_discard(order)
    return failed


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


def _reporter(order: Order) -> Report:
    def report(progress: int, eta_seconds: int | None) -> None:
        lifecycle.order_heartbeat(order, progress=progress, eta_seconds=eta_seconds)

    return report


def _crashed(order: Order, provider: Provider) -> None:
    logger.exception("Order %s failed in provider %s", order.pk, provider.name)
    order_fail(
        order,
        message="Something went wrong while editing this photo; please try again.",
        detail=traceback.format_exc(),
    )
