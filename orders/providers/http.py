"""What every remote provider client shares: one httpx client with timeouts, retries with
backoff on 429, 5xx and network errors, one error type, and safe result downloads."""

import functools
import io
import logging
import time
from typing import Any

import httpx
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from .base import ProviderError

logger = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}
RETRIES = 3
# Failures that happen before a request reaches the server: always safe to send again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class ApiClient:
    def __init__(
        self,
        *,
        label: str,
        base_url: str,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
        backoff: float = 1.0,
    ):
        self.label, self.backoff = label, backoff
        self.client = httpx.Client(
            base_url=base_url, headers=headers or {}, timeout=httpx.Timeout(timeout, connect=10)
        )
        # Results often live on another host (a CDN): it must not receive our credentials.
        self.anonymous = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=10), follow_redirects=True
        )

    def request(
        self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """The response of a 2xx answer. Raises ProviderError: permanent for other 4xx,
        transient once retries on 429/5xx/network errors are used up.

        A request that starts a job (a POST, unless the caller says it is `idempotent`) is
        not sent again after it may have arrived (a timeout while waiting for the answer):
        the provider would run, and bill, the job twice."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        for attempt in range(RETRIES + 1):
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TransportError as error:
                problem, wait = f"{type(error).__name__} on {method} {path}", None
                status, body = 0, ""
                if not idempotent and not isinstance(error, NOT_SENT):
                    raise ProviderError(
                        f"{self.label} did not answer in time.",
                        permanent=False,
                        detail=problem,
                        maybe_started=True,
                    ) from None
            else:
                if response.is_success:
                    return response
                status, body = response.status_code, response.text[:2000]
                problem = f"HTTP {status} on {method} {path}: {body[:300]}"
                if status not in RETRY_STATUSES:
                    raise ProviderError(
                        f"{self.label} refused the request.",
                        permanent=True,
                        detail=problem,
                        status=status,
                        body=body,
                    )
                wait = _retry_after(response)
            if attempt < RETRIES:
                # Headers are never logged: they hold the credentials.
                logger.warning(
                    "%s: %s; retrying (%d/%d)", self.label, problem, attempt + 1, RETRIES
                )
                time.sleep(wait if wait is not None else self.backoff * 2**attempt)
        raise ProviderError(
            f"{self.label} is not answering right now.",
            permanent=False,
            detail=problem,
            status=status,
            body=body,
        )

    def download_image(self, url: str, *, max_bytes: int) -> bytes:
        """A result image, by URL or path: http(s) only, size-limited, checked to be an image."""
        if "://" in url and not url.startswith(("https://", "http://")):
            raise ProviderError(
                f"{self.label} sent an unusable result.", permanent=True, detail=url
            )
        base = self.client.base_url
        ours = "://" not in url or (httpx.URL(url).scheme, httpx.URL(url).host) == (
            base.scheme,
            base.host,
        )  # the same host over plain http would carry our key in clear
        try:
            data = self._fetch(self.client if ours else self.anonymous, url, max_bytes)
        except httpx.TransportError as error:  # the job is done there: try again later
            raise ProviderError(
                f"{self.label} is not answering right now.",
                permanent=False,
                detail=f"{type(error).__name__} on GET {url}",
            ) from None
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except Image.DecompressionBombError:
            raise ProviderError(
                f"{self.label} sent a result with more pixels than allowed.",
                permanent=True,
                detail=url,
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ProviderError(
                f"{self.label} sent a result that is not an image.", permanent=True, detail=url
            ) from None
        return data

    def _fetch(self, client: httpx.Client, url: str, max_bytes: int) -> bytes:
        data = bytearray()
        with client.stream("GET", url) as response:
            if not response.is_success:
                raise ProviderError(
                    f"{self.label} lost the result.",
                    permanent=response.status_code not in RETRY_STATUSES,
                    detail=f"HTTP {response.status_code} on GET {url}",
                    status=response.status_code,
                )
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise ProviderError(
                        f"{self.label} sent a result larger than allowed.",
                        permanent=True,
                        detail=f"over {max_bytes} bytes from {url}",
                    )
        return bytes(data)


def read_json(response: httpx.Response, label: str) -> Any:
    """The answer's JSON; an unreadable answer is a passing fault (a proxy's error page)."""
    try:
        return response.json()
    except ValueError:
        raise ProviderError(
            f"{label} sent an answer we could not read.",
            permanent=False,
            detail=response.text[:300],
        ) from None


def read_object(response: httpx.Response, label: str) -> dict:
    """The answer's JSON object (every documented answer but a few lists is one)."""
    reply = read_json(response, label)
    if not isinstance(reply, dict):
        raise ProviderError(
            f"{label} sent an answer we could not read.", permanent=False, detail=str(reply)[:300]
        )
    return reply


def provider_client(*, label: str, base_url: str, headers: dict[str, str]) -> ApiClient:
    """A client with this installation's timeout and backoff settings, kept for reuse (its
    connections stay open between the calls of a job)."""
    return _client(
        label,
        base_url,
        tuple(sorted(headers.items())),
        settings.PROVIDER_TIMEOUT_SECONDS,
        settings.PROVIDER_BACKOFF_SECONDS,
    )


@functools.lru_cache(maxsize=16)
def _client(
    label: str,
    base_url: str,
    headers: tuple[tuple[str, str], ...],
    timeout: float,
    backoff: float,
) -> ApiClient:
    return ApiClient(
        label=label, base_url=base_url, headers=dict(headers), timeout=timeout, backoff=backoff
    )


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(60.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None
