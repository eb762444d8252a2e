"""AI HomeDesign API v1 (../shared/provider-docs/PROVIDERS.md §1, and
aihomedesign-item-removal-mask.txt).

Upload the photo with its service name (that creates AI HomeDesign's order), submit the
order with the space and widget items of our options, then follow it: its generated-image
webhook or order details. With AIHOMEDESIGN_UPSCALE (once the webhook is registered),
each generated image is fetched through the upscale download (full resolution), whose
link only the webhook brings.
The painted removal has its own steps: manual mask, submit, last temp image, done.
At most 10 orders per 10 minutes per key: further orders wait in our queue.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from PIL import Image

from maskeditor.masks import to_editor_png

from ..models import CatalogEntry, Order, ProviderAccount
from .aihd_catalog import (
    SERVICE_NAMES,
    WITH_SPACE,
    WITH_WIDGETS,
    catalog_refresh,
    pick_items,
    space_for,
)
from .base import Outcome, Provider, ProviderBusy, ProviderError, Report, WebhookMatch
from .http import ApiClient, Origin, origin_of, provider_client, read_object
from .inputs import as_jpeg, downloaded_result, required_mask, upright_photo

logger = logging.getLogger(__name__)

MASK_SERVICE = "service-item-removal-mask"
UPSCALE_KEY = "upscale:"  # provider_state key prefix, one per generated image id
ENHANCEMENT_TOGGLES = ("white_balance", "local_contrast", "sharpen")
ENHANCEMENT_REFUSAL = (
    "AI HomeDesign's enhancement cannot leave out a correction (it does them all); "
    "tick every one to use it"
)


class AiHomeDesignProvider(Provider):
    name = "aihomedesign"
    label = "AI HomeDesign"
    bills_per_job = True

    def unavailable_reason(self) -> str | None:
        return None if settings.AIHOMEDESIGN_API_KEY else "needs an AI HomeDesign API key"

    def refuses(self, order: Order) -> str | None:
        service_name = SERVICE_NAMES.get(order.service)
        if service_name is None:
            return f"AI HomeDesign has no {order.service_info.label.lower()}"
        if service_name == MASK_SERVICE and not order.mask:
            return "needs a painted mask"
        if service_name == "service-image-enhancement" and not all(
            order.options.get(name) for name in ENHANCEMENT_TOGGLES
        ):
            return ENHANCEMENT_REFUSAL
        known = CatalogEntry.objects.filter(service_name=service_name).exists()
        if known and service_name in WITH_WIDGETS:
            picked = _selection(service_name, order.options)
            if isinstance(picked, str):
                return picked
        return None

    def client(self) -> ApiClient:
        return provider_client(
            label=self.label,
            base_url=settings.AIHOMEDESIGN_BASE_URL,
            headers={"x-api-key": settings.AIHOMEDESIGN_API_KEY},
        )

    # --- Submission ----------------------------------------------------------------------

    def submit(self, order: Order, report: Report) -> Outcome:
        service_name = SERVICE_NAMES[order.service]
        api = self.client()
        body = {}
        if service_name in WITH_WIDGETS:
            if not CatalogEntry.objects.filter(service_name=service_name).exists():
                with _errors_read():
                    catalog_refresh(api, [service_name])
                report(5, None)
            picked = _selection(service_name, order.options)
            if isinstance(picked, str):
                raise ProviderError(picked + ".", permanent=True)
            body = picked
        photo = upright_photo(order)  # the API ignores EXIF orientation; masks are upright
        slot = _take_a_slot()
        try:
            return self._hand_over(api, order, service_name, body, photo, report)
        except Exception:
            # Not accepted (an outage, a refusal, their 429, a crash): a slot counts an
            # order AI HomeDesign runs, so this one is given back. An answer lost after
            # the job was sent is not an exception here (_started): that slot stays.
            _give_back(slot)
            raise

    def _hand_over(
        self,
        api: ApiClient,
        order: Order,
        service_name: str,
        body: dict,
        photo: Image.Image,
        report: Report,
    ) -> Outcome:
        with _errors_read():
            upload = api.request(
                "POST",
                "/order/image",
                files={"image": ("photo.jpg", as_jpeg(photo), "image/jpeg")},
                data={"service_name": service_name},
            )
            remote_id = _field(_json(upload), "order_id")
            report(10, None)
            if service_name == MASK_SERVICE:
                before = _json(api.request("GET", f"/order/{remote_id}/last-temp-image"))
                api.request(
                    "POST",
                    "/order/manual-mask",
                    files={"mask": ("mask.png", _mask_png(order, photo.size), "image/png")},
                    data={"order_id": remote_id},
                    idempotent=True,  # only the latest mask counts
                )
                body = {"service_name": MASK_SERVICE}
                state = {"phase": "masking", "before_image_id": before.get("image_id", "")}
            else:
                state = {"phase": "generating"}
            reply = _started(api, {"order_id": remote_id, **body})
        return Outcome(images=None, ref=remote_id, state=state, eta_seconds=_eta(reply))

    # --- Following the order ---------------------------------------------------------------

    def poll(self, order: Order, report: Report) -> Outcome:
        api = self.client()
        phase = order.provider_state.get("phase")
        with _errors_read():
            if phase == "masking":
                return self._poll_mask(api, order)
            if phase == "upscaling":
                return self._poll_upscales(api, order)
            details = _json(api.request("GET", f"/order/{order.provider_ref}"))
            if str(details.get("status", "")).lower() in ("failed", "error", "cancelled"):
                raise ProviderError(
                    "AI HomeDesign could not make this edit.",
                    permanent=True,
                    detail=f"order status {details['status']!r}",
                )
            done = [
                image
                for image in details.get("generated_images") or []
                if isinstance(image, dict) and image.get("id") and image.get("src")
            ]
            expected = (details.get("service") or {}).get("result_count") or 1
            if len(done) < expected:
                report(40 if done else 25, None)
                return Outcome(images=None)
            sources = {
                image["id"]: image["src"] for image in done[: order.service_info.max_results]
            }
            if not (settings.AIHOMEDESIGN_UPSCALE and settings.PUBLIC_BASE_URL):
                return self._finished(api, order, list(sources.values()))
            for image_id in sources:  # their links come by webhook
                api.request("POST", f"/order/image/{image_id}/download/upscale", idempotent=True)
        report(70, None)
        state: dict[str, object] = {
            f"{UPSCALE_KEY}{i}": ""
            for i in sources
            if f"{UPSCALE_KEY}{i}" not in order.provider_state
        }
        state |= {"phase": "upscaling", "sources": sources, "upscale_asked": _now()}
        return Outcome(images=None, state=state)

    def _poll_upscales(self, api: ApiClient, order: Order) -> Outcome:
        state = order.provider_state
        sources = state["sources"]
        links = {i: state.get(f"{UPSCALE_KEY}{i}") or "" for i in sources}
        waited = timezone.now() - datetime.fromisoformat(state["upscale_asked"])
        if all(links.values()):
            return self._finished(api, order, list(links.values()))
        if waited > timedelta(seconds=settings.AIHOMEDESIGN_UPSCALE_WAIT_SECONDS):
            # The upscale webhook never came (not registered?): the regular images will do.
            return self._finished(api, order, [links[i] or sources[i] for i in sources])
        return Outcome(images=None)

    def _poll_mask(self, api: ApiClient, order: Order) -> Outcome:
        latest = _json(api.request("GET", f"/order/{order.provider_ref}/last-temp-image"))
        if not latest.get("url") or latest.get("image_id") == order.provider_state.get(
            "before_image_id"
        ):
            return Outcome(images=None)  # the removal is not done yet
        outcome = self._finished(api, order, [latest["url"]])
        try:  # "save the selected result into the order": theirs, ours is safe already
            api.request(
                "POST",
                "/order/done",
                data={"order_id": order.provider_ref, "image_id": latest["image_id"]},
                idempotent=True,
            )
        except ProviderError as error:
            logger.warning(
                "AI HomeDesign order %s not marked done: %s", order.provider_ref, error.detail
            )
        return outcome

    def _finished(self, api: ApiClient, order: Order, links: list[str]) -> Outcome:
        return Outcome(images=[downloaded_result(api, link) for link in links])

    # --- Webhooks ------------------------------------------------------------------------

    def webhook_matches(self, payload: dict) -> list[WebhookMatch]:
        mine = Order.objects.filter(provider=self.name)
        image_id, link = payload.get("generated_image_id"), payload.get("upscaled_image_src")
        if isinstance(image_id, str) and isinstance(link, str) and image_id:
            key = f"{UPSCALE_KEY}{image_id}"
            return [WebhookMatch(order, _upscale_link(order, key, link))
                    for order in mine.filter(provider_state__has_key=key)]  # fmt: skip
        # The generated-image webhook, as `image: {...}` or the older `images: [...]`: we
        # read the order details rather than trust the body.
        remote_id = payload.get("order_id")
        if isinstance(remote_id, str) and remote_id and ("image" in payload or "images" in payload):
            return [WebhookMatch(order) for order in mine.filter(provider_ref=remote_id)]
        return []


def _upscale_link(order: Order, key: str, link: str) -> dict:
    """The webhook's link, kept only if it points where AI HomeDesign's authenticated API
    put this order's images: the same origin (scheme, host and port) and the same first
    path segment (the bucket, on a shared host such as s3.amazonaws.com). A webhook is
    not authenticated beyond the secret in its URL, and this link is what we download
    (under the egress policy, like any other link)."""
    places = set()
    for src in order.provider_state.get("sources", {}).values():
        try:
            places.add(_place(httpx.URL(src)))
        except httpx.InvalidURL:
            continue
    try:
        place = _place(httpx.URL(link))
    except httpx.InvalidURL:
        place = None
    if place is None or place not in places:
        logger.warning("Upscale link for order %s refused: %.200s", order.pk, link)
        return {}
    return {key: link}


def _place(url: httpx.URL) -> tuple[Origin, str]:
    """Where a link points: its origin and first path segment."""
    return origin_of(url), url.path.lstrip("/").split("/")[0]


def _started(api: ApiClient, body: dict) -> dict:
    """Submit the order. If the answer was lost on the way, the order may well be running:
    it is followed like any other (it has its id), and the time limit ends it if not."""
    try:
        return _json(api.request("POST", "/order", json=body))
    except ProviderError as error:
        if not error.maybe_started:
            raise
        logger.warning(
            "AI HomeDesign order %s: submission unconfirmed (%s)", body["order_id"], error.detail
        )
        return {}


def _mask_png(order: Order, size: tuple[int, int]) -> bytes:
    return to_editor_png(required_mask(order, size))  # #7878CD on transparent, as documented


def _json(response: httpx.Response) -> dict:
    return read_object(response, "AI HomeDesign")


def _field(reply: dict, name: str) -> str:
    value = reply.get(name)
    if not isinstance(value, str) or not value:
        raise ProviderError(
            "AI HomeDesign sent an answer we could not read.",
            permanent=False,
            detail=f"no {name} in {reply}"[:300],
        )
    return value


def _selection(service_name: str, options: dict) -> dict | str:
    """The space and widget items of a submission, or why they cannot be chosen."""
    body: dict[str, object] = {}
    space_name = ""
    if service_name in WITH_SPACE:
        choice = str(options.get("room_type") or options.get("scene"))
        space_name = space_for(service_name, choice) or ""
        if not space_name:
            return f"AI HomeDesign has no space for {choice.replace('_', ' ')}"
        body["space_name"] = space_name
    if service_name == "service-image-enhancement" and not all(
        options.get(name) for name in ENHANCEMENT_TOGGLES
    ):
        # Its enhancement corrects everything at once; its own toggles (fire in the
        # fireplace, a picture on the TV) are none of ours.
        return ENHANCEMENT_REFUSAL
    items = pick_items(service_name, space_name, options)
    if isinstance(items, str):
        return items
    body["selected_widgets"] = items
    if service_name == "service-day-to-dusk":
        body["remove_shadow"] = bool(options.get("remove_shadows"))
    return body


def _take_a_slot() -> str:
    """Hold a slot of the rate limit for this order (its timestamp), or say when one
    frees up. Held before the upload, so concurrent workers cannot overshoot the limit;
    given back if AI HomeDesign does not accept the order."""
    window = timedelta(seconds=settings.AIHOMEDESIGN_WINDOW_SECONDS)
    now = timezone.now()
    with transaction.atomic():
        ProviderAccount.objects.get_or_create(provider="aihomedesign")
        account = ProviderAccount.objects.select_for_update().get(provider="aihomedesign")
        recent = [t for t in account.recent_orders if _parse(t) > now - window]
        if len(recent) >= settings.AIHOMEDESIGN_ORDERS_PER_WINDOW:
            oldest = _parse(min(recent)) if recent else now
            wait = (oldest + window - now).total_seconds() + 1
            raise ProviderBusy(
                "Waiting for a free slot at AI HomeDesign "
                f"({settings.AIHOMEDESIGN_ORDERS_PER_WINDOW} orders per "
                f"{round(window.total_seconds() / 60)} minutes); "
                f"it starts in about {max(1, round(wait / 60))} min.",
                retry_after=wait,
            )
        slot = now.isoformat()
        account.recent_orders = [*recent, slot]
        account.save(update_fields=["recent_orders", "updated_at"])
    return slot


def _give_back(slot: str) -> None:
    with transaction.atomic():
        account = ProviderAccount.objects.select_for_update().get(provider="aihomedesign")
        if slot in account.recent_orders:
            account.recent_orders.remove(slot)
            account.save(update_fields=["recent_orders", "updated_at"])


@contextmanager
def _errors_read() -> Iterator[None]:
    """AI HomeDesign's error bodies are {"error": ..., "key": ...}, the key a string or a
    number: put them in words, and turn its rate limit into waiting in our queue."""
    try:
        yield
    except ProviderError as error:
        if error.status == 429:
            raise ProviderBusy(
                "AI HomeDesign is at its rate limit; this order waits in the queue.",
                retry_after=settings.AIHOMEDESIGN_WINDOW_SECONDS / 2,
            ) from error
        try:
            body = json.loads(error.body)
            text, key = str(body["error"]), body.get("key", "")
        except (ValueError, TypeError, KeyError):
            raise error from None
        error.detail = f"{error.detail} [AI HomeDesign: {text} (key {key!r})]"
        if error.status in (400, 404, 409, 415):
            error.message = f"AI HomeDesign refused this edit: {text}."
        raise


def _eta(reply: dict) -> int | None:
    """Seconds, as one client reads it; the docs give no unit. Only shown to the agent."""
    eta = reply.get("eta")
    return eta if isinstance(eta, int) and not isinstance(eta, bool) and eta > 0 else None


def _now() -> str:
    return timezone.now().isoformat()


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)
