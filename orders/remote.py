"""What this app offers remote providers: signed, expiring URLs of the photo and mask an
order hands over (IACrea fetches images by URL), and the webhook endpoints they call."""

import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Order

logger = logging.getLogger(__name__)

HANDOVER_SALT = "orders.handover"
HANDOVER_FILES = {"photo": "photo.jpg", "mask": "mask.png"}
WEBHOOK_MAX_BYTES = 64 * 1024 * 1024  # AdCreative may inline the result image


def public_url(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


# --- Handover files ----------------------------------------------------------------------


def _handover_path(order: Order, kind: str) -> str:
    return f"handover/{order.pk}/{HANDOVER_FILES[kind]}"


def handover_store(order: Order, kind: str, data: bytes) -> str:
    """Keep a file for the provider to fetch; returns its signed, expiring public URL."""
    path = _handover_path(order, kind)
    default_storage.delete(path)
    default_storage.save(path, ContentFile(data))
    token = signing.dumps({"order": str(order.pk), "kind": kind}, salt=HANDOVER_SALT)
    return public_url(reverse("orders:handover", args=[token, HANDOVER_FILES[kind]]))


def handover_discard(order: Order) -> None:
    """The job is over: the provider has no more business with our files."""
    for kind in HANDOVER_FILES:
        default_storage.delete(_handover_path(order, kind))


@login_not_required
@require_GET
def handover(request: HttpRequest, token: str, filename: str) -> FileResponse:
    try:
        signed = signing.loads(token, salt=HANDOVER_SALT, max_age=settings.HANDOVER_URL_SECONDS)
    except signing.BadSignature:  # forged, altered or expired
        raise Http404 from None
    order = Order.objects.filter(pk=signed["order"]).first()
    if order is None or HANDOVER_FILES.get(signed["kind"]) != filename:
        raise Http404
    path = _handover_path(order, signed["kind"])
    if not default_storage.exists(path):
        raise Http404
    response = FileResponse(
        default_storage.open(path, "rb"),
        content_type="image/jpeg" if filename.endswith(".jpg") else "image/png",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- Webhooks ----------------------------------------------------------------------------


def webhook_secret(provider: str) -> str:
    """The secret in a provider's webhook URL: none of them signs its calls."""
    return salted_hmac("orders.webhook", provider, secret=settings.SECRET_KEY).hexdigest()[:32]


def webhook_url(provider: str) -> str:
    return public_url(reverse("orders:webhook", args=[provider, webhook_secret(provider)]))


@csrf_exempt  # called by the provider's servers, not by a browser with our cookie
@login_not_required
@require_POST
def webhook(request: HttpRequest, provider: str, secret: str) -> JsonResponse:
    from . import services
    from .providers import REGISTRY

    remote = REGISTRY.get(provider)
    if remote is None or not constant_time_compare(secret, webhook_secret(provider)):
        logger.warning("Webhook with a wrong secret or provider: %s", provider)
        raise Http404
    body = _body(request)
    if body is None:
        return JsonResponse({"error": "the body is too large"}, status=413)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"error": "expected a JSON object"}, status=400)
    if not services.webhook_receive(remote, payload):
        logger.warning("Webhook from %s about no order of ours: %.300s", provider, body)
        return JsonResponse({"error": "no such order"}, status=404)
    return JsonResponse({"ok": True})


def _body(request: HttpRequest) -> bytes | None:
    """The request's body, or None past WEBHOOK_MAX_BYTES (request.body stops at 2.5 MB,
    less than an AdCreative notification with its image inline)."""
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > WEBHOOK_MAX_BYTES:
            return None
    except ValueError:
        pass
    body = request.read(WEBHOOK_MAX_BYTES + 1)
    return body if len(body) <= WEBHOOK_MAX_BYTES else None
