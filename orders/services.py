"""Flows around orders that agents, staff and the clock start: placing an order (and its
variations), retrying, cancelling, recovering orders whose worker died, taking a provider's
webhook, deleting results, sharing. They call the state machine (orders.lifecycle), the
provider routing, and queue work on commit (orders.tasks).
"""

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from homedesign.accounts.credits import NotEnoughCredits
from homedesign.accounts.models import User
from homedesign.projects.models import Photo, Project
from maskeditor.masks import check_coverage
from maskeditor.models import Mask

from . import lifecycle, processing, tasks
from .catalog import MaskUse, Service, clean_options, get_service
from .models import (
    Batch,
    ListingStyle,
    ListingZip,
    Order,
    OrderResult,
    Rendition,
    Review,
    ShareLink,
    token_digest,
)
from .providers import provider_for, refusal
from .providers.base import Provider, WebhookMatch

logger = logging.getLogger(__name__)


class OrderRefused(Exception):
    """The order cannot be placed; the message is for the agent."""


def order_place(
    *,
    user: User,
    photo: Photo,
    service: str,
    options: dict,
    mask: Mask | None = None,
    parent: Order | None = None,
    batch: Batch | None = None,
    answers: Review | None = None,
) -> Order:
    """Check, charge and queue an order: every rule an order must meet is checked here,
    once, before anything is charged. `mask` is the painted mask version it uses; `batch`
    the listing order it is part of. Raises OrderRefused, MaskRejected (coverage) or
    NotEnoughCredits."""
    order = _order_checked(
        user=user, photo=photo, service=service, options=options, mask=mask, parent=parent
    )
    order.batch = batch
    with transaction.atomic():
        lifecycle.order_accept(order)
        tasks.order_enqueue(order.pk)
        listing_style_remember(order)
        if batch is not None:
            _batch_painted(batch, photo)
        if answers is not None and answers.result.order.photo_id == photo.pk:
            # The seller sees the answer on the same review link.
            Review.objects.filter(pk=answers.pk).update(answered_by=order)
    return order


def batch_place(
    *,
    user: User,
    project: Project,
    photos: Sequence[Photo],
    service: str,
    options: dict,
    room_types: dict[str, str] | None = None,
) -> Batch:
    """One service with one set of options for many photos of a listing: each photo its
    own order, all checked first and charged together, or none (the whole batch is
    refused when the balance does not cover it). A service that needs a mask queues no
    order yet: the agent paints the photos one after the other, each placed as painted.
    `room_types` gives a room type per photo id, for staging and design."""
    if project.owner_id != user.pk or any(p.project_id != project.pk for p in photos):
        raise OrderRefused("Those photos are not all in this project.")
    if not photos:
        raise OrderRefused("Choose at least one photo.")
    info = get_service(service)
    batch = Batch(owner=user, project=project, service=service, options=options)
    if info.mask == MaskUse.REQUIRED:
        _order_options_checked(info, options)
        batch.photos_to_paint = [str(photo.pk) for photo in photos]
        batch.save()
        return batch
    orders = [
        _order_checked(
            user=user,
            photo=photo,
            service=service,
            options=_with_room(options, (room_types or {}).get(str(photo.pk))),
            mask=None,
            parent=None,
        )
        for photo in photos
    ]
    total = sum(order.credits_charged for order in orders)
    with transaction.atomic():
        # Refuse up front with the batch's total rather than after charging a few of them;
        # the charges below still check each step against the balance.
        balance = User.objects.select_for_update().values_list("credits", flat=True).get(pk=user.pk)
        if balance < total:
            raise NotEnoughCredits(total, balance, what=f"This batch of {len(orders)} photos")
        batch.save()
        for order in orders:
            order.batch = batch
            lifecycle.order_accept(order)
            tasks.order_enqueue(order.pk)
            listing_style_remember(order)
    return batch


def batch_next_to_paint(batch: Batch) -> Photo | None:
    """The next photo of a painting batch still without its order."""
    for photo_id in batch.photos_to_paint:
        photo = Photo.objects.filter(pk=photo_id, project=batch.project_id).first()
        if photo is not None:
            return photo
    return None


def batch_skip(batch: Batch, photo: Photo) -> None:
    """The agent leaves this photo out of the batch."""
    _batch_painted(batch, photo)


def _batch_painted(batch: Batch, photo: Photo) -> None:
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        locked.photos_to_paint = [p for p in locked.photos_to_paint if p != str(photo.pk)]
        locked.save(update_fields=["photos_to_paint"])
    batch.photos_to_paint = locked.photos_to_paint


def _with_room(options: dict, room_type: str | None) -> dict:
    return {**options, "room_type": room_type} if room_type else options


def _order_options_checked(info: Service, options: dict) -> dict:
    try:
        return clean_options(info, options)
    except ValueError as error:
        raise OrderRefused(str(error)) from None


STYLE_OPTIONS = ("style", "colour")


def listing_style_remember(order: Order) -> None:
    """Staging and design orders set the listing's style, so its next rooms match."""
    chosen = {name: order.options[name] for name in STYLE_OPTIONS if name in order.options}
    room_type = order.options.get("room_type")
    if not chosen and not room_type:
        return
    style, _ = ListingStyle.objects.select_for_update().get_or_create(
        project_id=order.photo.project_id
    )
    for name, value in chosen.items():
        setattr(style, name, value)
    if room_type:
        style.room_types = {**style.room_types, str(order.photo_id): room_type}
    style.save()


def _order_checked(
    *,
    user: User,
    photo: Photo,
    service: str,
    options: dict,
    mask: Mask | None,
    parent: Order | None,
) -> Order:
    """The order as it would be placed (not saved), or OrderRefused saying why not."""
    info = get_service(service)
    if photo.project.owner_id != user.pk:
        raise OrderRefused("That photo is not yours.")
    options = _order_options_checked(info, options)
    if info.mask == MaskUse.REQUIRED and mask is None:
        raise OrderRefused(f"{info.label} needs a mask: paint the area to change.")
    if mask is not None and info.mask_excludes and options.get(info.mask_excludes):
        label = next(o.label for o in info.options if o.name == info.mask_excludes)
        raise OrderRefused(
            f"Either paint the area or choose “{label}”, not both: untick it to use your "
            "painting, or clear the painting."
        )
    if mask is not None:
        if mask.photo_id != photo.pk:
            raise OrderRefused("That mask was painted on another photo. Paint this one.")
        check_coverage(mask.painted_share, at_most=info.max_mask_share)
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
    if provider_for(order) is None:
        raise OrderRefused(refusal(order))  # say so now, rather than charge and refund
    return order


def order_retry(order: Order) -> bool:
    """Staff send a failed or cancelled order round again; it is charged again."""
    with transaction.atomic():
        requeued = lifecycle.order_retry(order)
        if requeued:
            tasks.order_enqueue(order.pk)
    return requeued


def order_reap(order: Order) -> bool:
    """A processing order whose lease ran out lost its worker: queue it again, or, after
    the last attempt, fail it with a refund. Returns whether it did anything."""
    if not lifecycle.order_is_stranded(order):
        return False
    if order.provider_state.get("remote"):
        # The job runs at the provider; only our polling stopped. Sending it again would
        # pay the provider twice: ask it for news instead.
        logger.warning("Order %s: polling of its remote job had stopped; resumed", order.pk)
        lifecycle.order_heartbeat(order)
        tasks.order_poll_later(order, seconds=0)
        return True
    if order.provider_state.get("submitting"):
        # Lost while handing the job over: the provider may have it, unknown to us.
        return processing.order_fail(
            order,
            message="The edit could not be confirmed; your credits are refunded. "
            "Please order it again.",
            detail=f"Worker lost while submitting to {order.provider}; not sent again, "
            "as a second submission could be a second paid job.",
        )
    if order.attempts < settings.ORDER_MAX_ATTEMPTS:
        with transaction.atomic():
            requeued = lifecycle.order_requeue(order)
            if requeued:
                logger.warning("Order %s lost its worker; queued again", order.pk)
                tasks.order_enqueue(order.pk)
        return requeued
    return processing.order_fail(
        order,
        message="The edit could not be finished; please try again later.",
        detail=f"Worker lost {order.attempts} times (lease expired); gave up.",
    )


def orders_reap_stranded() -> int:
    """Recover every order whose worker died; run on a schedule (`manage.py serve` and
    `manage.py reap_orders`), never by a page view."""
    return sum(order_reap(order) for order in Order.objects.stranded())


def listing_zip_reap(archive: ListingZip) -> bool:
    """A ZIP whose worker died while building it: queue it once more or, when that build
    was lost too, fail it with a message the agent sees where they ask for another.
    Returns whether it did anything (nothing when the build has moved on meanwhile)."""
    lost = ListingZip.objects.stranded().filter(pk=archive.pk, builds=archive.builds)
    if archive.builds < ListingZip.MAX_BUILDS:
        with transaction.atomic():
            requeued = bool(lost.update(status=ListingZip.Status.QUEUED, progress=0))
            if requeued:
                logger.warning("Listing ZIP %s lost its worker; queued again", archive.pk)
                tasks.listing_zip_enqueue(archive.pk)
        return requeued
    logger.warning("Listing ZIP %s lost its worker %d times; failed", archive.pk, archive.builds)
    return bool(
        lost.update(
            status=ListingZip.Status.FAILED,
            message="The ZIP could not be finished: the server preparing it stopped twice. "
            "Your photos are fine; make the ZIP again.",
            finished_at=timezone.now(),
        )
    )


def listing_zip_retry(archive: ListingZip) -> bool:
    """Staff build a failed ZIP again for its agent."""
    with transaction.atomic():
        failed = ListingZip.objects.filter(pk=archive.pk, status=ListingZip.Status.FAILED)
        requeued = failed.update(
            status=ListingZip.Status.QUEUED, progress=0, builds=0, message="", finished_at=None
        )
        if requeued:
            tasks.listing_zip_enqueue(archive.pk)
    return bool(requeued)


def listing_zips_delete(archives: "QuerySet[ListingZip]") -> None:
    """ZIPs and their files (staff freeing room; the agent can ask for one again)."""
    files = [str(archive.file.name) for archive in archives if archive.file.name]
    archives.delete()
    transaction.on_commit(lambda: _delete_files(files))


def renditions_delete(renditions: "QuerySet[Rendition]") -> None:
    """Delivered files and their rows; the worker makes them again when next asked for."""
    files = [str(rendition.file.name) for rendition in renditions if rendition.file.name]
    renditions.delete()
    transaction.on_commit(lambda: _delete_files(files))


def listing_zips_reap_stranded() -> int:
    """Recover every listing ZIP whose worker died; run beside orders_reap_stranded."""
    return sum(listing_zip_reap(archive) for archive in ListingZip.objects.stranded())


def webhook_receive(*, provider: Provider, payload: dict, order_id: str | None = None) -> int:
    """Match a provider's webhook to its orders, keep what only the webhook tells, and have
    the worker look at them now. Returns how many orders it concerned (0: unknown).
    `order_id` comes from a job's own webhook address (signed), when the provider's body
    names nothing we can match."""
    matches = provider.webhook_matches(payload)
    if order_id and not any(str(match.order.pk) == order_id for match in matches):
        named = Order.objects.filter(pk=order_id, provider=provider.name).first()
        matches += [WebhookMatch(named)] if named else []
    for match in matches:
        if match.order.is_finished:
            continue  # a duplicate, or news of an order we finished already
        if match.state:
            lifecycle.order_state_update(match.order, match.state)
        tasks.order_poll_later(match.order, seconds=0)
    return len(matches)


def result_delete(*, result: OrderResult) -> None:
    files = result.stored_files()
    result.delete()
    transaction.on_commit(lambda: _delete_files(files))


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def share_link_create(
    *,
    owner: User,
    subject: Order | Project,
    expires_at: datetime | None,
    include_originals: bool,
    result_ids: Sequence[str] = (),
    for_review: bool = False,
    allow_downloads: bool = True,
    show_address: bool = False,
    label_mode: str = ShareLink.Label.LISTING,
) -> ShareLink:
    """A link to the subject's results, or to the ones picked among them. Originals it
    offers are prepared by the worker, once."""
    link = ShareLink(
        owner=owner,
        order=subject if isinstance(subject, Order) else None,
        project=subject if isinstance(subject, Project) else None,
        expires_at=expires_at,
        include_originals=include_originals,
        for_review=for_review,
        allow_downloads=allow_downloads,
        show_address=show_address,
        label_mode=label_mode,
    )
    link.token_digest = token_digest(link.token)
    # Only results of the subject can be picked (a forged id of another's is ignored).
    picks = list(link.subject_results().filter(pk__in=[v for v in result_ids if _is_uuid(v)]))
    link.picks_only = bool(picks)
    with transaction.atomic():
        link.save()
        link.results.set(picks)
        if include_originals:
            tasks.share_originals_enqueue(link.pk)
        # Made when each order finished; made here with the link's own label, or again
        # if the listing's changed since.
        tasks.deliver_results_enqueue([str(r.pk) for r in link.shared_results()])
    return link


class ReviewRefused(Exception):
    """The visitor's review cannot be taken; the message is for them."""


REVIEWS_PER_HOUR = 60


def review_submit(*, link: ShareLink, result_id: str, verdict: str, comment: str) -> Review:
    """A review link's visitor approves a result or asks for a change. Only a live review
    link, only its own results, plain text of bounded length, and at most
    REVIEWS_PER_HOUR per link: nothing a visitor sends can change anything else."""
    if not link.for_review or not link.is_live:
        raise ReviewRefused("This link no longer takes reviews.")
    result = link.shared_results().filter(pk=result_id).first() if _is_uuid(result_id) else None
    if result is None:
        raise ReviewRefused("That photo is not on this page.")
    if verdict not in Review.Verdict.values:
        raise ReviewRefused("Choose whether you approve the photo or ask for a change.")
    comment = comment.strip()
    if len(comment) > Review.COMMENT_MAX_LENGTH:
        raise ReviewRefused(
            f"Please keep the comment under {Review.COMMENT_MAX_LENGTH} characters."
        )
    if verdict == Review.Verdict.CHANGES and not comment:
        raise ReviewRefused("Say what should change, so the agent can do it.")
    key = f"reviews:{link.pk}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, timeout=3600)
    if cache.incr(key) > REVIEWS_PER_HOUR:
        raise ReviewRefused("Too many answers from this link in the last hour; try again later.")
    return Review.objects.create(link=link, result=result, verdict=verdict, comment=comment)


def share_link_revoke(*, link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def share_link_visit(*, link: ShareLink) -> None:
    """Count a visit, for the owner's list of links."""
    ShareLink.objects.filter(pk=link.pk).update(
        view_count=F("view_count") + 1, last_viewed_at=timezone.now()
    )


def project_label_set(*, project: Project, mode: str, corner: str) -> None:
    """The listing's disclosure label; its results are delivered again with it."""
    project.label_mode, project.label_corner = mode, corner
    with transaction.atomic():
        project.save(update_fields=["label_mode", "label_corner", "updated_at"])
        results = OrderResult.objects.filter(
            order__photo__project=project, order__status=Order.Status.SUCCEEDED
        )
        tasks.deliver_results_enqueue([str(pk) for pk in results.values_list("pk", flat=True)])


def results_deliver_later(*, result_ids: list[str]) -> None:
    """Have the worker make what these results' listings deliver and is not made yet."""
    tasks.deliver_results_enqueue(result_ids)


def listing_zip_create(
    *, owner: User, project: Project, result_ids: Sequence[str], size: str, include_originals: bool
) -> ListingZip:
    """A ZIP of the chosen results of the listing (only its own), built by the worker."""
    picks = OrderResult.objects.filter(
        order__photo__project=project,
        order__status=Order.Status.SUCCEEDED,
        pk__in=[v for v in result_ids if _is_uuid(v)],
    )
    with transaction.atomic():
        archive = ListingZip.objects.create(
            owner=owner, project=project, size=size, include_originals=include_originals
        )
        archive.results.set(picks)
        tasks.listing_zip_enqueue(archive.pk)
    return archive


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
