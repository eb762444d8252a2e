"""Flows around orders: running one through its provider, deleting results, sharing."""

import logging
import traceback
import uuid
from datetime import datetime

from django.core.files.storage import default_storage
from django.db import transaction

from homedesign.projects.models import Project

from . import lifecycle
from .models import Order, OrderResult, ShareLink
from .providers import candidates, refusal
from .providers.base import ProviderError

logger = logging.getLogger(__name__)


def order_run(*, order_id: str) -> None:
    order = Order.objects.select_related("photo", "owner", "mask").get(pk=order_id)
    if not lifecycle.order_claim(order):
        return  # finished, cancelled, or another worker has it
    providers = candidates(order)
    if not providers:
        lifecycle.order_fail(order, message=refusal(order))
        return

    def report(progress: int, eta_seconds: int | None) -> None:
        lifecycle.order_heartbeat(order, progress=progress, eta_seconds=eta_seconds)

    for index, provider in enumerate(providers):
        lifecycle.order_record_provider(order, provider=provider.name)
        try:
            outcome = provider.submit(order, report)
        except ProviderError as error:
            if not error.permanent and index + 1 < len(providers):
                # A provider that is down now: the next one in the list may serve it.
                logger.warning("Order %s: %s failed (%s); trying the next provider",
                               order.pk, provider.name, error.detail)  # fmt: skip
                continue
            lifecycle.order_fail(order, message=error.message, detail=error.detail or repr(error))
            return
        except Exception:
            logger.exception("Order %s failed in provider %s", order.pk, provider.name)
            lifecycle.order_fail(
                order,
                message="Something went wrong while editing this photo; please try again.",
                detail=traceback.format_exc(),
            )
            return
        break
    if outcome.ref:
        lifecycle.order_record_provider(order, provider=provider.name, ref=outcome.ref)
    if outcome.images is not None:
        lifecycle.order_succeed(order, outcome.images, note=outcome.note)


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
