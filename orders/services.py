"""Flows around orders: running one through its provider, deleting results, sharing."""

import logging
import traceback
import uuid
from datetime import datetime

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from homedesign.projects.models import Project

from . import lifecycle
from .models import Order, OrderResult, ShareLink
from .providers import REGISTRY, candidates, refusal
from .providers.base import ProviderBusy, ProviderError

logger = logging.getLogger(__name__)


def order_run(*, order_id: str) -> None:
    order = Order.objects.select_related("photo", "owner", "mask").get(pk=order_id)
    if not lifecycle.order_claim(order):
        return  # finished, cancelled, or another worker has it
    providers = candidates(order)
    if not providers:
        lifecycle.order_fail(order, message=refusal(order))
        return

    for index, provider in enumerate(providers):
        lifecycle.order_record_provider(order, provider=provider.name)
        lifecycle.order_state_update(order, {"submitting": provider.bills_per_job})
        try:
            outcome = provider.submit(order, _reporter(order))
        except ProviderBusy as busy:
            lifecycle.order_defer(order, seconds=busy.retry_after, message=busy.message)
            return
        except ProviderError as error:
            if not error.permanent and not error.maybe_started and index + 1 < len(providers):
                # A provider that is down now: the next one in the list may serve it.
                logger.warning("Order %s: %s failed (%s); trying the next provider",
                               order.pk, provider.name, error.detail)  # fmt: skip
                continue
            lifecycle.order_fail(order, message=error.message, detail=error.detail or repr(error))
            return
        except Exception:
            _crashed(order, provider)
            return
        break
    if outcome.ref:
        lifecycle.order_record_provider(order, provider=provider.name, ref=outcome.ref)
    if outcome.images is not None:
        lifecycle.order_succeed(order, outcome.images, note=outcome.note)
    else:  # handed over: followed by polls from now on
        lifecycle.order_await(order, state=outcome.state, eta_seconds=outcome.eta_seconds)


def order_poll(*, order_id: str, token: int | None = None) -> None:
    """Ask the provider for news of the order's remote job; finish it or look again later.
    A poll whose token is not the order's latest was superseded by a sooner one."""
    order = Order.objects.select_related("photo", "owner", "mask").get(pk=order_id)
    if order.status != Order.Status.PROCESSING or not order.provider_state.get("remote"):
        return  # finished meanwhile (a webhook and a poll raced), or not a remote job
    if token is not None and token != order.poll_token:
        return
    provider = REGISTRY[order.provider]
    waited = (timezone.now() - order.started_at).total_seconds()
    if waited > settings.REMOTE_MAX_WAIT_SECONDS:
        lifecycle.order_fail(
            order,
            message=f"{provider.label} did not finish this edit in time; please try again.",
            detail=f"No result after {waited / 60:.0f} minutes.",
        )
        return
    try:
        outcome = provider.poll(order, _reporter(order))
    except ProviderBusy as busy:  # rate-limited while following the job: look later
        lifecycle.order_heartbeat(order)
        lifecycle.order_poll_later(order, seconds=min(busy.retry_after, _half_a_lease()))
        return
    except ProviderError as error:
        if error.permanent:
            lifecycle.order_fail(order, message=error.message, detail=error.detail or repr(error))
        else:  # the provider is unreachable for now; the job may still be running there
            logger.warning("Order %s: polling %s failed (%s)", order.pk, provider.name, error)
            lifecycle.order_heartbeat(order)
            lifecycle.order_poll_later(order)
        return
    except Exception:
        _crashed(order, provider)
        return
    if outcome.state:
        lifecycle.order_state_update(order, outcome.state)
    if outcome.images is not None:
        lifecycle.order_succeed(order, outcome.images, note=outcome.note)
    else:
        lifecycle.order_heartbeat(order, eta_seconds=outcome.eta_seconds)
        lifecycle.order_poll_later(order)


def _reporter(order: Order):
    def report(progress: int, eta_seconds: int | None) -> None:
        lifecycle.order_heartbeat(order, progress=progress, eta_seconds=eta_seconds)

    return report


def _half_a_lease() -> float:
    return settings.ORDER_LEASE_SECONDS / 2


def _crashed(order: Order, provider) -> None:
    logger.exception("Order %s failed in provider %s", order.pk, provider.name)
    lifecycle.order_fail(
        order,
        message="Something went wrong while editing this photo; please try again.",
        detail=traceback.format_exc(),
    )


def webhook_receive(provider, payload: dict) -> int:
    """Match a provider's webhook to its orders, keep what only the webhook tells, and have
    the worker look at them now. Returns how many orders it concerned (0: unknown)."""
    matches = provider.webhook_matches(payload)
    for match in matches:
        if match.order.is_finished:
            continue  # a duplicate, or news of an order we finished already
        if match.state:
            lifecycle.order_state_update(match.order, match.state)
        lifecycle.order_poll_later(match.order, seconds=0)
    return len(matches)


def result_delete(*, result: OrderResult) -> None:
    files = result.stored_files()
    result.delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files])


def share_link_create(
    *,
    owner,
    subject: Order | Project,
    expires_at: datetime | None,
    include_originals: bool,
    result_ids: list[str] = (),
) -> ShareLink:
    """A link to the subject's results, or to the ones picked among them."""
    link = ShareLink.objects.create(
        owner=owner,
        order=subject if isinstance(subject, Order) else None,
        project=subject if isinstance(subject, Project) else None,
        expires_at=expires_at,
        include_originals=include_originals,
    )
    valid_ids = [value for value in result_ids if _is_uuid(value)]
    if valid_ids:
        link.results.set(link.shared_results().filter(pk__in=valid_ids))
    return link


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
