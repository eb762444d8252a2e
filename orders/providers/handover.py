"""What this app hands remote providers: signed, expiring URLs of the photo and mask of an
order (IACrea fetches images by URL), and the addresses of our webhooks.

The endpoints that answer these URLs are views (orders/webhooks.py); this module only
makes and checks the URLs and keeps the files behind them.
"""

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from ..models import Order

HANDOVER_SALT = "orders.handover"
JOB_SALT = "orders.webhook.job"
HANDOVER_FILES = {"photo": "photo.jpg", "mask": "mask.png"}


def public_url(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def _handover_path(order_id: str, kind: str) -> str:
    return f"handover/{order_id}/{HANDOVER_FILES[kind]}"


def handover_store(order: Order, kind: str, data: bytes) -> str:
    """Keep a file for the provider to fetch; returns its signed, expiring public URL."""
    path = _handover_path(str(order.pk), kind)
    default_storage.delete(path)
    default_storage.save(path, ContentFile(data))
    token = signing.dumps({"order": str(order.pk), "kind": kind}, salt=HANDOVER_SALT)
    return public_url(reverse("orders:handover", args=[token, HANDOVER_FILES[kind]]))


def handover_discard(order: Order) -> None:
    """The job is over: the provider has no more business with our files."""
    for kind in HANDOVER_FILES:
        default_storage.delete(_handover_path(str(order.pk), kind))


def handover_path(token: str, filename: str) -> str | None:
    """The stored file a handover URL names, or None when the URL is forged, altered,
    expired, or its order has ended (its files are gone)."""
    try:
        signed = signing.loads(token, salt=HANDOVER_SALT, max_age=settings.HANDOVER_URL_SECONDS)
    except signing.BadSignature:
        return None
    kind = signed.get("kind")
    if HANDOVER_FILES.get(kind) != filename:
        return None
    if not Order.objects.filter(pk=signed["order"]).exists():
        return None
    path = _handover_path(signed["order"], kind)
    return path if default_storage.exists(path) else None


def webhook_secret(provider: str) -> str:
    """The secret in a provider's webhook URL: none of them signs its calls."""
    return salted_hmac("orders.webhook", provider, secret=settings.SECRET_KEY).hexdigest()[:32]


def webhook_secret_matches(provider: str, secret: str) -> bool:
    return constant_time_compare(secret, webhook_secret(provider))


def webhook_url(provider: str) -> str:
    return public_url(reverse("orders:webhook", args=[provider, webhook_secret(provider)]))


def job_webhook_url(provider: str, order: Order) -> str:
    """A webhook address for one order's job, for a provider whose documented webhook body
    carries nothing we can match (IACrea's is its retrieval answer): the address itself
    names the order, signed."""
    job = signing.dumps(str(order.pk), salt=f"{JOB_SALT}.{provider}")
    return public_url(reverse("orders:webhook_job", args=[provider, webhook_secret(provider), job]))


def job_webhook_order(provider: str, job: str) -> str | None:
    """The order id a job webhook address names, or None if it is forged or altered."""
    try:
        order_id = signing.loads(job, salt=f"{JOB_SALT}.{provider}")
    except signing.BadSignature:
        return None
    return order_id if isinstance(order_id, str) else None
