"""IACrea (../shared/provider-docs/decluttering-api.txt, exterior-creation-api.txt).

Every call is a JSON POST carrying `user_id`; IACrea fetches the photo and mask from signed,
expiring URLs of this app, works for minutes, then calls our webhook (its body is the
retrieval answer) or answers `/get`. A variation of an order IACrea served is IACrea's own
`generate-variation` on the same project, which subscriptions may include for free.
"""

import logging

from django.conf import settings

from maskeditor.masks import to_white_on_black_png

from ..models import Order, ProviderAccount
from .base import Outcome, Provider, ProviderError, Report, WebhookMatch
from .handover import handover_store, job_webhook_url
from .http import ApiClient, provider_client, read_object
from .inputs import as_jpeg, downloaded_result, painted_mask, upright_photo

logger = logging.getLogger(__name__)

ENDPOINTS = {
    "item_removal": "declutter_total",
    "declutter": "declutter_total",
    "exterior_creation": "create_exterior",
}
PENDING, SUCCEEDED, FAILED = {"STARTING", "PROCESSING"}, "SUCCEEDED", "FAILED"
RESULT_WORDS = ("image", "result", "output", "generat", "url")


class IacreaProvider(Provider):
    name = "iacrea"
    label = "IACrea"
    bills_per_job = True

    def unavailable_reason(self) -> str | None:
        if not (settings.IACREA_API_KEY and settings.IACREA_USER_ID):
            return "needs an IACrea API key"
        if not settings.PUBLIC_BASE_URL:
            return "needs PUBLIC_BASE_URL (IACrea fetches photos from this site)"
        return None

    def refuses(self, order: Order) -> str | None:
        if order.service not in ENDPOINTS:
            return f"IACrea has no {order.service_info.label.lower()} here"
        if order.service == "declutter" and not order.mask and not order.options.get("auto"):
            return "IACrea needs a painted mask or automatic detection"
        if order.service == "declutter" and order.mask and not _parent_generation(order):
            # Its generate call documents no mask field ("auto: false ... you will need
            # to provide a mask", but not how); only generate-variation takes mask_url.
            return (
                "IACrea takes a painted mask for decluttering only in a variation of its "
                "own result; it finds clutter automatically otherwise"
            )
        return None

    def client(self) -> ApiClient:
        key = settings.IACREA_API_KEY
        bearer = settings.IACREA_AUTH.lower() == "bearer"
        return provider_client(
            label=self.label,
            base_url=settings.IACREA_BASE_URL,
            headers={"Authorization": f"Bearer {key}"} if bearer else {"x-api-key": key},
        )

    def submit(self, order: Order, report: Report) -> Outcome:
        photo = upright_photo(order)
        painted = painted_mask(order, photo.size)
        image_url = handover_store(order, "photo", as_jpeg(photo))
        mask_url = (
            # No IACrea page says which colour marks the area: white on black, the usual
            # convention, until they confirm (unconfirmed).
            handover_store(order, "mask", to_white_on_black_png(painted))
            if painted is not None
            else None
        )
        report(5, None)
        endpoint = ENDPOINTS[order.service]
        parent_generation = _parent_generation(order)
        action = "generate-variation" if parent_generation else "generate"
        body = {"user_id": settings.IACREA_USER_ID} | _job(
            order, endpoint, parent_generation, image_url, mask_url, photo.size
        )
        reply = read_object(
            self.client().request("POST", f"/{endpoint}/{action}", json=body), self.label
        )
        generation = reply.get("generation_id")
        if not isinstance(generation, str) or not generation:
            raise ProviderError(
                "IACrea did not accept the job.", permanent=True, detail=f"answer: {reply}"
            )
        _record_remaining(reply)
        state = {"generation_id": generation, "endpoint": endpoint}
        if isinstance(reply.get("project_id"), str):
            state["project_id"] = reply["project_id"]
        return Outcome(images=None, ref=generation, state=state)

    def poll(self, order: Order, report: Report) -> Outcome:
        api = self.client()
        body = {"user_id": settings.IACREA_USER_ID, "generation_id": order.provider_ref}
        endpoint = order.provider_state.get("endpoint", ENDPOINTS[order.service])
        status, urls, variations = read_generation(
            read_object(
                api.request("POST", f"/{endpoint}/get", json=body, idempotent=True), self.label
            )
        )
        if status == FAILED:
            raise ProviderError(
                "IACrea could not make this edit.",
                permanent=True,
                detail=f"generation {order.provider_ref} FAILED (IACrea refunds its photos)",
            )
        if status != SUCCEEDED:
            report(30 if status == "PROCESSING" else 15, None)
            return Outcome(images=None, state={"status": status})
        if not urls:
            raise ProviderError(
                "IACrea finished without an image.",
                permanent=True,
                detail=f"generation {order.provider_ref} SUCCEEDED with no image URL",
            )
        report(90, None)
        images = [downloaded_result(api, url) for url in urls[: order.service_info.max_results]]
        state: dict[str, object] = {"status": status}
        if variations is not None:
            state["variations"] = variations
        return Outcome(images=images, state=state)

    def webhook_matches(self, payload: dict) -> list[WebhookMatch]:
        generation = _generation_of(payload)
        if not generation:
            return []
        orders = Order.objects.filter(provider=self.name, provider_ref=generation)
        return [WebhookMatch(order) for order in orders]


def _job(
    order: Order,
    endpoint: str,
    parent_generation: str,
    image_url: str,
    mask_url: str | None,
    size: tuple[int, int],
) -> dict[str, object]:
    """The documented fields of a generation or variation request, besides user_id."""
    webhook = {"webhook": job_webhook_url("iacrea", order)}
    if endpoint == "declutter_total":
        job: dict[str, object]
        if parent_generation:
            # The declutter page shows the variation's fields without their names; they
            # are named after the exterior-creation page (unconfirmed). No mask: IACrea
            # reuses the previous one. It lists no webhook: the job is followed by polls.
            job = {"generation_id": parent_generation, "original_url": image_url}
            return job | ({"mask_url": mask_url} if mask_url else {})
        return {"image_url": image_url, "auto": True} | webhook  # refuses() saw no mask
    room_type = {"room_type": order.options["exterior_type"]}
    if parent_generation:
        job = {"generation_id": parent_generation, "original_url": image_url}
        # Without a mask IACrea reuses the previous generation's (documented).
        return job | ({"mask_url": mask_url} if mask_url else {}) | room_type | webhook
    width, height = size  # the image's size in pixels, as the docs describe these fields
    job = {"image_url": image_url, "mask_url": mask_url, "width": width, "height": height}
    return job | room_type | webhook


def _parent_generation(order: Order) -> str:
    """The IACrea generation this order is a variation of, if IACrea served the parent."""
    parent = order.parent
    if parent and parent.provider == "iacrea" and parent.status == Order.Status.SUCCEEDED:
        return parent.provider_ref
    return ""


def _flattened(reply: dict) -> dict:
    """The answer with one level of wrapping (e.g. {"data": {...}}) undone."""
    flat = dict(reply)
    for value in reply.values():
        if isinstance(value, dict):
            flat = {**value, **flat}
    return flat


def read_generation(reply: dict) -> tuple[str, list[str], int | None]:
    """Status, image URLs and variation count of a retrieval answer or webhook.

    The docs describe these three fields but not their key names, so they are found by
    what they hold: a known status word, a list of http(s) URLs, a count of variations."""
    flat = _flattened(reply)
    status = flat.get("status")
    if not isinstance(status, str) or status.upper() not in PENDING | {SUCCEEDED, FAILED}:
        words = [v for v in flat.values() if isinstance(v, str)]
        status = next((w for w in words if w.upper() in PENDING | {SUCCEEDED, FAILED}), None)
    if status is None:
        raise ProviderError(
            "IACrea sent an answer we could not read.",
            permanent=False,
            detail=f"no status in {reply}"[:500],
        )
    urls = _result_links(flat)
    variations = next(
        (
            value
            for key, value in flat.items()
            if "variation" in key.lower() and isinstance(value, int) and not isinstance(value, bool)
        ),
        None,
    )
    return status.upper(), urls, variations


def _result_links(flat: dict) -> list[str]:
    """The list of http(s) links that holds the results: one named like results if there
    are several, and never our own links (the photo we handed over)."""
    ours = settings.PUBLIC_BASE_URL or "\0"
    lists = [
        (key, value)
        for key, value in flat.items()
        if isinstance(value, list)
        and value
        and all(
            isinstance(v, str) and v.startswith(("https://", "http://")) and not v.startswith(ours)
            for v in value
        )
    ]
    named = [value for key, value in lists if any(word in key.lower() for word in RESULT_WORDS)]
    return (named or [value for _, value in lists] or [[]])[0]


def _generation_of(payload: dict) -> str:
    flat = _flattened(payload)
    value = flat.get("generation_id") or flat.get("id")
    return value if isinstance(value, str) else ""


def _record_remaining(reply: dict) -> None:
    remaining = reply.get("remaining_photos")
    if isinstance(remaining, int) and not isinstance(remaining, bool):
        ProviderAccount.objects.update_or_create(
            provider="iacrea", defaults={"remaining_photos": remaining}
        )
        if remaining < 10:
            logger.warning("IACrea: only %d photos left on the subscription", remaining)
