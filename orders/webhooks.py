"""The endpoints remote providers call: webhooks about their jobs, and the signed URLs of
the photos and masks we hand them. Public (no session), so each checks its secret."""

import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from homedesign.projects.serving import signed_redirect, storage_is_local

from . import services
from .providers import REGISTRY
from .providers.handover import handover_path, job_webhook_order, webhook_secret_matches

logger = logging.getLogger(__name__)

WEBHOOK_MAX_BYTES = 64 * 1024 * 1024  # AdCreative may inline the result image
# The documented bodies nest three levels deep; code that walks a payload (recursively, or
# printing it) must never meet one that exhausts the stack.
WEBHOOK_MAX_DEPTH = 16


@login_not_required
@require_GET
def handover(request: HttpRequest, token: str, filename: str) -> HttpResponseBase:
    path = handover_path(token, filename)
    if path is None:
        raise Http404
    content_type = "image/jpeg" if filename.endswith(".jpg") else "image/png"
    response: HttpResponseBase
    if storage_is_local(default_storage):
        response = FileResponse(default_storage.open(path, "rb"), content_type=content_type)
    else:  # the provider fetches the bytes from the bucket, by a URL signed for a while
        response = signed_redirect(
            default_storage,
            path,
            content_type=content_type,
            seconds=settings.HANDOVER_REDIRECT_SECONDS,
        )
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@csrf_exempt  # called by the provider's servers, not by a browser with our cookie
@login_not_required
@require_POST
def webhook(request: HttpRequest, provider: str, secret: str, job: str = "") -> JsonResponse:
    remote = REGISTRY.get(provider)
    if remote is None or not webhook_secret_matches(provider, secret):
        logger.warning("Webhook with a wrong secret or provider: %s", provider)
        raise Http404
    order_id = job_webhook_order(provider, job) if job else None
    if job and order_id is None:
        logger.warning("Webhook from %s with a forged job reference", provider)
        raise Http404
    body = _body(request)
    if body is None:
        return JsonResponse({"error": "the body is too large"}, status=413)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    except RecursionError:  # the parser's own limit, far past ours
        return JsonResponse({"error": "the body is nested too deeply"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"error": "expected a JSON object"}, status=400)
    if _deeper_than(payload, WEBHOOK_MAX_DEPTH):
        return JsonResponse({"error": "the body is nested too deeply"}, status=400)
    if not services.webhook_receive(provider=remote, payload=payload, order_id=order_id):
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


def _deeper_than(payload: dict, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels (walked without recursion)."""
    level: list[dict | list] = [payload]
    for _ in range(limit):
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True
