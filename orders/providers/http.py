"""What every remote provider client shares: one httpx client with timeouts, retries with
backoff on 429, 5xx and network errors, one error type, and safe result downloads.

The egress policy (../shared/DESIGN.md, "Trust at the edges") lives here too. A provider's
configured base URL is trusted as the operator set it, for its exact origin only, and only
that origin receives the provider's credentials. Any other URL a provider hands us (a
result link, a redirect) is fetched only over http(s), its host name resolved once, every
address checked (no loopback, private, link-local, multicast, reserved or unspecified
address, nor an IPv6 form that embeds one), the connection made to the address that was
checked, redirects followed by hand and checked hop by hop, without credentials.
"""

import functools
import io
import ipaddress
import logging
import socket
import time
from collections.abc import Iterable
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
MAX_REDIRECTS = 5
DEFAULT_PORTS = {"http": 80, "https": 443}
# IPv6 ranges that carry an IPv4 address in their last 32 bits (NAT64, IPv4-compatible).
EMBEDS_IPV4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))

Origin = tuple[str, str, int]


class EgressRefused(Exception):
    """A URL the egress policy does not let us fetch; the message says why (for staff)."""


def origin_of(url: httpx.URL) -> Origin:
    """Scheme, host and port, the default port written out: what credentials belong to."""
    return url.scheme, url.host.lower(), url.port or DEFAULT_PORTS.get(url.scheme, 0)


def parse_origin(text: str) -> Origin:
    return origin_of(httpx.URL(text))


def resolve(host: str, port: int) -> list[str]:
    """Every address a host name stands for. The one DNS look-up of a fetch, by the
    system's resolver (tests answer for names of their own at socket.getaddrinfo)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise EgressRefused(f"{host} does not resolve ({error})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_refusal(text: str) -> str | None:
    """Why we may not connect to an address, or None for a public unicast address."""
    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return "not an IP address"
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address is judged by that address (a mapped 127.0.0.1 is
        # loopback); :: and ::1 are themselves, not IPv4-compatible forms.
        embedded = address.ipv4_mapped or address.sixtofour
        if address.teredo:
            embedded = address.teredo[1]
        if any(address in network for network in EMBEDS_IPV4) and int(address) > 1:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and (reason := address_refusal(str(embedded))):
            return f"embeds {embedded}, {reason}"
    for kind in ("loopback", "unspecified", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "site-local"
    if not address.is_global:
        return "not public"
    return None


def checked_address(url: httpx.URL) -> str:
    """The address to connect to for an untrusted URL: its host resolved once, and every
    address it resolves to allowed (one bad address refuses the name: a resolver that
    answers differently next time must not get a second chance)."""
    if url.scheme not in DEFAULT_PORTS:
        raise EgressRefused(f"scheme {url.scheme!r} is not http(s)")
    if not url.host:
        raise EgressRefused("no host")
    try:  # an address written out is checked as it is (a zone id is kept off)
        addresses = [str(ipaddress.ip_address(url.host.split("%")[0]))]
    except ValueError:
        addresses = resolve(url.host, url.port or DEFAULT_PORTS[url.scheme])
    if not addresses:
        raise EgressRefused(f"{url.host} has no address")
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise EgressRefused(f"{url.host} is {address} ({reason})")
    return addresses[0]


class EgressTransport(httpx.BaseTransport):
    """Sends each request to the address the policy checked, unless its origin is one the
    operator configured (trusted as set). The Host header and TLS server name stay those
    of the URL, so certificates are verified for the name, not the address."""

    def __init__(self, trusted: Iterable[Origin], *, only: Origin | None = None):
        self.trusted, self.only = set(trusted), only
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in DEFAULT_PORTS:
            raise EgressRefused(f"scheme {url.scheme!r} is not http(s)")
        if self.only is not None and origin_of(url) != self.only:
            # The credentialed client: its headers belong to one origin alone.
            raise EgressRefused(f"{url.host}:{url.port} is not the provider's origin")
        if origin_of(url) not in self.trusted:
            address = checked_address(url)
            request.url = url.copy_with(host=address)
            if url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": url.host}
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def trusted_origins() -> set[Origin]:
    """Origins besides a provider's own base URL that the operator trusts as configured
    (EGRESS_TRUSTED_ORIGINS, e.g. an object store on the local network). No credentials."""
    return {parse_origin(text) for text in settings.EGRESS_TRUSTED_ORIGINS}


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
        self.timeout = httpx.Timeout(timeout, connect=10)
        self.origin = parse_origin(base_url)
        # The credentials in `headers` go to this origin and no other: its transport
        # refuses every other origin, and redirects are not followed by it.
        self.client = httpx.Client(
            base_url=base_url,
            headers=headers or {},
            timeout=self.timeout,
            transport=EgressTransport([self.origin], only=self.origin),
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
            except EgressRefused as refused:
                raise ProviderError(
                    f"{self.label} was not asked: the address is not allowed.",
                    permanent=True,
                    detail=f"{method} {path}: {refused}",
                ) from None
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
        """A result image, by URL or by path on the provider's own origin: fetched under the
        egress policy, size-limited, checked to be an image."""
        try:
            data = self._fetch(url, max_bytes)
        except EgressRefused as refused:
            raise ProviderError(
                f"{self.label} sent a result link we do not follow.",
                permanent=True,
                detail=f"{url[:300]}: {refused}",
            ) from None
        except httpx.InvalidURL as error:
            raise ProviderError(
                f"{self.label} sent an unusable result.",
                permanent=True,
                detail=f"{url[:300]}: {error}",
            ) from None
        except httpx.TransportError as error:  # the job is done there: try again later
            raise ProviderError(
                f"{self.label} is not answering right now.",
                permanent=False,
                detail=f"{type(error).__name__} on GET {url[:300]}",
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

    def _fetch(self, url: str, max_bytes: int) -> bytes:
        """GET a link, following at most MAX_REDIRECTS redirects by hand. Credentials go
        along only while every hop so far is the provider's own origin."""
        target = httpx.URL(url)
        if not (target.scheme or target.host):
            # A path on the provider's own origin, after base_url's path, as httpx joins it.
            target = httpx.URL(str(self.client.base_url).rstrip("/") + "/" + url.lstrip("/"))
        ours = True
        for _ in range(MAX_REDIRECTS + 1):
            if target.scheme not in DEFAULT_PORTS:
                raise EgressRefused(f"scheme {target.scheme!r} is not http(s)")
            ours = ours and origin_of(target) == self.origin
            if ours:
                location, data = self._get(self.client, target, max_bytes)
            else:
                # A fresh client per hop: no connection (nor TLS session) made for one
                # name is reused for another that resolves to the same address.
                trusted = trusted_origins() | {self.origin}
                with httpx.Client(
                    timeout=self.timeout, transport=EgressTransport(trusted)
                ) as anonymous:
                    location, data = self._get(anonymous, target, max_bytes)
            if location is None:
                return data
            target = target.join(location)
        raise EgressRefused(f"more than {MAX_REDIRECTS} redirects")

    def _get(
        self, client: httpx.Client, url: httpx.URL, max_bytes: int
    ) -> tuple[str | None, bytes]:
        """(redirect location, b"") or (None, body)."""
        data = bytearray()
        with client.stream("GET", url) as response:
            if response.is_redirect and response.headers.get("Location"):
                return response.headers["Location"], b""
            if not response.is_success:
                raise ProviderError(
                    f"{self.label} lost the result.",
                    permanent=response.status_code not in RETRY_STATUSES,
                    detail=f"HTTP {response.status_code} on GET {url}",
                    status=response.status_code,
                )
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise ProviderError(
                    f"{self.label} sent a result larger than allowed.",
                    permanent=True,
                    detail=f"{length} bytes (over {max_bytes}) from {url}",
                )
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise ProviderError(
                        f"{self.label} sent a result larger than allowed.",
                        permanent=True,
                        detail=f"over {max_bytes} bytes from {url}",
                    )
        return None, bytes(data)


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
