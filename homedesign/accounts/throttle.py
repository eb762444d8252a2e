"""Who is asking, and how often: the client address and the request counts behind login
lockouts (django-axes) and the rate limits on mails sent on demand (sign-up, password reset).
"""

import hashlib
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from .models import Throttle


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind our reverse proxy (BEHIND_PROXY), the last
    X-Forwarded-For entry: the one the proxy appended; earlier ones are the client's word."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")


def login_username(request: HttpRequest, credentials: dict | None) -> str:
    """Lockouts count per account, whatever the case the address was typed in."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return username.strip().lower()


def throttle_exceeded(*, scope: str, value: str, limit: int, period: timedelta) -> bool:
    """Count one request for `value` in `scope`; True once more than `limit` were counted in
    the current window of `period`. Counting is one UPDATE, so concurrent requests in any
    number of processes are all counted."""
    now = timezone.now()
    seconds = int(period.total_seconds())
    start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=UTC)
    key = hashlib.sha256(f"{scope}:{value.strip().lower()}".encode()).hexdigest()
    row = Throttle.objects.filter(key=key, window_start=start)
    with transaction.atomic():
        Throttle.objects.filter(expires_at__lt=now).delete()
        if not row.update(hits=F("hits") + 1):
            try:
                with transaction.atomic():
                    Throttle.objects.create(
                        key=key, window_start=start, hits=1, expires_at=start + period
                    )
            except IntegrityError:  # another request created it first
                row.update(hits=F("hits") + 1)
        hits = row.values_list("hits", flat=True).get()
    return hits > limit


def mail_request_refused(request: HttpRequest, *, scope: str, email: str) -> bool:
    """Sign-up and reset mails: limited per client address and per e-mail address, so neither
    one client nor many can flood an inbox or our mail server. Both are counted."""
    hour = timedelta(hours=1)
    by_client = throttle_exceeded(
        scope=f"{scope}:client",
        value=client_ip(request),
        limit=settings.MAIL_REQUESTS_PER_HOUR_PER_CLIENT,
        period=hour,
    )
    by_email = throttle_exceeded(
        scope=f"{scope}:email",
        value=email,
        limit=settings.MAIL_REQUESTS_PER_HOUR_PER_EMAIL,
        period=hour,
    )
    return by_client or by_email
