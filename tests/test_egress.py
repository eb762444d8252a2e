"""The egress policy of the shared provider client, over real sockets on this machine.

Every hostile link points at a listener that counts its hits (or at an address the policy
refuses before connecting), so "refused" means nothing was fetched. DNS names are answered
by a test resolver at socket.getaddrinfo, and connections to the one public-looking address
are sent to a local listener at socket.create_connection: the network boundary, nothing of
ours, and no traffic leaves this machine.
"""

import io
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from PIL import Image

from orders.providers.base import ProviderError
from orders.providers.http import ApiClient, address_refusal, checked_address

PUBLIC = "93.184.216.34"  # a global address; connections to it are diverted to a listener


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


class Listener:
    """A real HTTP server that counts its hits: /x.png is an image, /go?to=URL redirects."""

    def __init__(self, host: str = "127.0.0.1"):
        self.hits: list[dict] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                listener.hits.append({"path": self.path, **dict(self.headers)})
                query = parse_qs(urlparse(self.path).query)
                if urlparse(self.path).path.endswith("/go"):
                    self.send_response(302)
                    self.send_header("Location", query["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = png()
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server_class = type("Server", (ThreadingHTTPServer,), {})
        if ":" in host:
            server_class.address_family = socket.AF_INET6
        self.server = server_class((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target():
    """The listener hostile links point at."""
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def target6():
    server = Listener("::1")
    yield server
    server.close()


@pytest.fixture
def provider(settings):
    """The provider's own server (its configured base URL, trusted as set)."""
    server = Listener()
    settings.EGRESS_TRUSTED_ORIGINS = []
    yield server
    server.close()


@pytest.fixture
def cdn(settings, provider):
    """A results host the operator trusts (EGRESS_TRUSTED_ORIGINS), on loopback."""
    server = Listener()
    settings.EGRESS_TRUSTED_ORIGINS = [server.url]
    yield server
    server.close()


@pytest.fixture
def api(provider):
    return ApiClient(label="Fake", base_url=provider.url + "/v1", headers={"x-api-key": "k3y"})


@pytest.fixture
def network(monkeypatch, target, target6):
    """Test names at the resolver, and the one public address diverted to `target`. Any
    other connection to an address off this machine fails the test."""
    names: dict[str, list[str]] = {
        "internal.test": ["127.0.0.1"],
        "metadata.test": ["169.254.169.254"],
        "lan.test": ["192.168.1.20"],
        "mixed.test": [PUBLIC, "127.0.0.1"],
        "v6.test": ["::1"],
        "mapped.test": ["::ffff:127.0.0.1"],
        "public.test": [PUBLIC],
    }
    lookups: list[str] = []
    connections: list[tuple] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        lookups.append(name)
        if name in names:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port))
                for a in names[name]
            ]  # fmt: skip
        if name.endswith(".test"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        connections.append(address)
        host = address[0]
        if host == PUBLIC:
            return real_connect(("127.0.0.1", target.port), *args, **kwargs)
        assert host in ("127.0.0.1", "::1", "localhost"), f"would connect to {address}"
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return {"lookups": lookups, "connections": connections}


# Every form tried: (link, why it is refused). {p} is the counting listener's port on
# 127.0.0.1, {p6} the one on ::1; every other address is refused before any connection.
HOSTILE = [
    ("http://127.0.0.1:{p}/x.png", "loopback"),
    ("http://localhost:{p}/x.png", "loopback"),
    ("http://LocalHost:{p}/x.png", "loopback"),
    ("http://127.0.0.2:{p}/x.png", "loopback"),
    ("http://2130706433:{p}/x.png", "loopback"),
    ("http://0x7f000001:{p}/x.png", "loopback"),
    ("http://127.1:{p}/x.png", "loopback"),
    ("http://0177.0.0.1:{p}/x.png", "Invalid IPv4"),
    ("http://0.0.0.0:{p}/x.png", "unspecified"),
    ("http://0:{p}/x.png", "unspecified"),
    ("http://user:pass@127.0.0.1:{p}/x.png", "loopback"),
    ("https://127.0.0.1:{p}/x.png", "loopback"),
    ("http://[::1]:{p6}/x.png", "loopback"),
    ("http://[::]:{p}/x.png", "unspecified"),
    ("http://[::ffff:127.0.0.1]:{p}/x.png", "embeds 127.0.0.1"),
    ("http://[::ffff:7f00:1]:{p}/x.png", "embeds 127.0.0.1"),
    ("http://[::127.0.0.1]:{p}/x.png", "embeds 127.0.0.1"),
    ("http://[64:ff9b::7f00:1]:{p}/x.png", "embeds 127.0.0.1"),
    ("http://[2002:7f00:1::1]:{p}/x.png", "embeds 127.0.0.1"),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{p}/x.png", "embeds 127.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/x.png", "link-local"),
    ("http://[fe80::1%25lo]:{p}/x.png", "link-local"),
    ("http://10.0.0.1/x.png", "private"),
    ("http://172.16.0.1/x.png", "private"),
    ("http://192.168.1.1/x.png", "private"),
    ("http://100.64.0.1/x.png", "not public"),
    ("http://[fc00::1]/x.png", "private"),
    ("http://[fec0::1]/x.png", "site-local"),
    ("http://224.0.0.1/x.png", "multicast"),
    ("http://[ff02::1]/x.png", "multicast"),
    ("http://240.0.0.1/x.png", "reserved"),
    ("http://255.255.255.255/x.png", "reserved"),
    ("http://192.0.2.1/x.png", "private"),
    ("http://internal.test:{p}/x.png", "127.0.0.1 (loopback)"),
    ("http://metadata.test/latest/meta-data/", "169.254.169.254 (link-local)"),
    ("http://lan.test/x.png", "192.168.1.20 (private)"),
    ("http://mixed.test:{p}/x.png", "127.0.0.1 (loopback)"),
    ("http://v6.test:{p6}/x.png", "::1 (loopback)"),
    ("http://mapped.test:{p}/x.png", "embeds 127.0.0.1"),
    ("http://nowhere.test/x.png", "does not resolve"),
    ("ftp://127.0.0.1:{p}/x.png", "is not http(s)"),
    ("file:///etc/passwd", "is not http(s)"),
    ("gopher://127.0.0.1:{p}/_GET", "is not http(s)"),
    ("//127.0.0.1:{p}/x.png", "is not http(s)"),
    ("data:image/png;base64,AAAA", "is not http(s)"),
]


@pytest.mark.parametrize(("link", "reason"), HOSTILE)
def test_a_hostile_link_is_refused_and_nothing_is_fetched(
    api, network, target, target6, provider, link, reason
):
    url = link.format(p=target.port, p6=target6.port)

    with pytest.raises(ProviderError) as refused:
        api.download_image(url, max_bytes=10_000)

    assert refused.value.permanent
    assert reason in refused.value.detail, refused.value.detail
    assert target.hits == target6.hits == provider.hits == []


# Redirect chains that start somewhere allowed and end inside: (first hop, why refused).
REDIRECTS = [
    ("http://127.0.0.1:{p}/x.png", "loopback"),
    ("http://[::1]:{p6}/x.png", "loopback"),
    ("http://2130706433:{p}/x.png", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://internal.test:{p}/x.png", "loopback"),
    ("http://public.test/go?to=http://127.0.0.1:{p}/x.png", "loopback"),
    ("file:///etc/passwd", "is not http(s)"),
]


@pytest.mark.parametrize(("inside", "reason"), REDIRECTS)
def test_a_redirect_into_the_inside_is_refused(api, network, cdn, target, target6, inside, reason):
    """From a trusted results host, through another trusted hop, to the inside."""
    end = inside.format(p=target.port, p6=target6.port)
    second = f"{cdn.url}/go?to={end}"
    first = f"{cdn.url}/go?to={second}"

    with pytest.raises(ProviderError) as refused:
        api.download_image(first, max_bytes=10_000)

    assert reason in refused.value.detail, refused.value.detail
    assert len(cdn.hits) == 2
    # public.test is diverted to `target`, whose redirect to itself is refused: only /go.
    assert len(target.hits) == (1 if "public.test" in end else 0)
    assert all("/go?" in hit["path"] for hit in target.hits)
    assert target6.hits == []


def test_the_providers_own_server_redirecting_inside_is_refused(api, network, provider, target):
    with pytest.raises(ProviderError, match="do not follow"):
        api.download_image(f"/go?to=http://127.0.0.1:{target.port}/x.png", max_bytes=10_000)
    assert len(provider.hits) == 1 and target.hits == []


def test_more_than_five_redirects_are_not_followed(api, cdn):
    link = f"{cdn.url}/x.png"
    for _ in range(6):
        link = str(httpx.URL(f"{cdn.url}/go", params={"to": link}))
    with pytest.raises(ProviderError) as refused:
        api.download_image(link, max_bytes=10_000)
    assert "more than 5 redirects" in refused.value.detail
    assert len(cdn.hits) == 6 and all("/go?" in hit["path"] for hit in cdn.hits)


def test_a_public_address_is_connected_to_as_checked_with_one_lookup(api, network, target):
    """The name is resolved once; the connection goes to the address that was checked,
    with the name still in the Host header."""
    data = api.download_image("http://public.test/x.png", max_bytes=10_000)

    assert Image.open(io.BytesIO(data)).size == (4, 4)
    assert network["lookups"].count("public.test") == 1
    assert (PUBLIC, 80) in network["connections"]
    assert [hit["Host"] for hit in target.hits] == ["public.test"]
    assert "x-api-key" not in {key.lower() for key in target.hits[0]}


def test_checked_address_is_the_public_one(network):
    assert checked_address(httpx.URL("https://public.test/a.jpg")) == PUBLIC


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700:4700::1111", "93.184.216.34", "2a00:1450:4007:80b::200e"]
)
def test_public_addresses_are_allowed(address):
    assert address_refusal(address) is None


# --- Credentials only to their exact origin ----------------------------------------------


def test_credentials_go_to_the_providers_origin_and_paths_on_it(api, provider):
    data = api.download_image("/x.png", max_bytes=10_000)

    assert Image.open(io.BytesIO(data)).size == (4, 4)
    assert provider.hits[0]["path"] == "/v1/x.png"
    assert provider.hits[0]["x-api-key"] == "k3y"


@pytest.mark.parametrize(
    "where",
    [
        "{cdn}/x.png",  # same host, another port (another service)
        "http://localhost:{port}/x.png",  # the same port under another host name
    ],
)
def test_credentials_never_reach_another_port_or_host(settings, api, provider, cdn, where):
    link = where.format(cdn=cdn.url, port=provider.port)
    settings.EGRESS_TRUSTED_ORIGINS = [cdn.url, f"http://localhost:{provider.port}"]

    api.download_image(link, max_bytes=10_000)

    hits = cdn.hits + provider.hits
    assert len(hits) == 1
    assert "x-api-key" not in {key.lower() for key in hits[0]}


def test_credentials_are_dropped_once_a_redirect_leaves_the_origin(api, provider, cdn):
    back_home = f"{provider.url}/v1/x.png"
    api.download_image(f"/go?to={cdn.url}/go?to={back_home}", max_bytes=10_000)

    assert provider.hits[0]["x-api-key"] == "k3y"  # the first hop, on its own origin
    assert "x-api-key" not in cdn.hits[0]
    assert "x-api-key" not in provider.hits[1]  # back on the origin, but after a detour


def test_the_api_client_cannot_be_pointed_at_another_origin(api, provider, target):
    with pytest.raises(ProviderError, match="not allowed"):
        api.request("GET", f"http://127.0.0.1:{target.port}/x.png")
    assert target.hits == []


def test_a_result_over_the_size_limit_is_refused(api, provider):
    with pytest.raises(ProviderError, match="larger than allowed"):
        api.download_image("/x.png", max_bytes=10)
