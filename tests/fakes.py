"""Fake provider servers: real HTTP on localhost that accept only requests exactly as the
providers' documentation describes them, and answer with the documented shapes."""

import email.parser
import email.policy
import io
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    fields: dict = field(default_factory=dict)  # multipart field name -> bytes
    json: dict | None = None


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that timed out and left: expected in the slow-answer tests


class FakeServer:
    """A threaded HTTP server on localhost; subclasses answer in handle()."""

    def __init__(self):
        self.seen: list[Seen] = []
        self.fail: dict[str, list[int]] = {}  # path -> statuses to answer first
        self.slow: dict[str, list[float]] = {}  # path -> seconds to wait before answering
        self.slowed: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.dispatch(self, "GET")

            def do_POST(self):
                fake.dispatch(self, "POST")

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # Results are served under another host name, like a CDN: no credentials expected.
        self.cdn = f"http://localhost:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()

    def dispatch(self, request, method):
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        path = request.path.split("?")[0]
        if self.slow.get(path):
            self.slowed.append(path)
            time.sleep(self.slow[path].pop(0))  # the client may have given up meanwhile
        if self.fail.get(path):
            self.seen.append(Seen(method, request.path, dict(request.headers)))
            return self.reply(request, self.fail[path].pop(0), {"error": "busy"})
        try:
            return self.handle(request, method, body)
        except AssertionError as error:  # a request the docs do not describe
            self.errors.append(f"{method} {request.path}: {error}")
            return self.reply(request, 400, {"error": f"not as documented: {error}"})

    @property
    def errors(self) -> list[str]:
        return self.__dict__.setdefault("_errors", [])

    def json_body(self, request, body, *, required: set, optional: set = frozenset()) -> dict:
        assert request.headers["Content-Type"] == "application/json", request.headers
        data = json.loads(body)
        assert required <= set(data) <= required | optional, sorted(data)
        return data

    def multipart(self, request, body, *, expect):
        content_type = request.headers["Content-Type"]
        assert content_type.startswith("multipart/form-data; boundary="), content_type
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields = {
            part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()
        }
        assert set(fields) == expect, fields
        return fields

    def reply(self, request, status, payload):
        self.send(request, status, json.dumps(payload).encode(), "application/json")

    def send(self, request, status, data, content_type):
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


class FakeObjectRemover(FakeServer):
    """../shared/provider-docs/object-remover-http-api.txt, as a server."""

    def __init__(self, token: str = ""):
        super().__init__()
        self.token = token
        self.images: dict[str, bytes] = {}
        self.masks: dict[str, bytes] = {}
        self.results: dict[str, bytes] = {}
        self.forget_once = False  # a restart: the next /inpaint finds no ids
        self.broken_result = False

    def handle(self, request, method, body):
        seen = Seen(method, request.path, dict(request.headers))
        self.seen.append(seen)
        public = method == "GET" and request.path.startswith("/download/")
        authorised = request.headers.get("Authorization") == f"Bearer {self.token}"
        if self.token and not public and not authorised:
            return self.reply(request, 401, {"detail": "Unauthorized"})
        route = (method, request.path.split("/download/")[0] if public else request.path)
        if route == ("POST", "/upload-image"):
            seen.fields = self.multipart(request, body, expect={"image"})
            return self.store(request, self.images, seen.fields["image"], "image.png")
        if route == ("POST", "/upload-mask"):
            seen.fields = self.multipart(request, body, expect={"mask"})
            return self.store(request, self.masks, seen.fields["mask"], "mask.png")
        if route == ("POST", "/inpaint"):
            seen.json = self.json_body(request, body, required={"image_id", "mask_id"})
            if self.forget_once:
                self.forget_once = False
                self.images.clear()
                self.masks.clear()
            if seen.json["image_id"] not in self.images or seen.json["mask_id"] not in self.masks:
                return self.reply(request, 404, {"detail": "Not Found"})
            name = f"output_{uuid.uuid4().hex}.png"
            self.results[name] = self.inpaint(seen.json["image_id"], seen.json["mask_id"])
            return self.reply(request, 200, {"result": name})
        if public and request.path[len("/download/") :] in self.results:
            data = b"not a png" if self.broken_result else self.results[request.path[10:]]
            return self.send(request, 200, data, "image/png")
        return self.reply(request, 404, {"detail": "Not Found"})

    def store(self, request, where, data, filename):
        key = str(uuid.uuid4())
        where[key] = data
        return self.reply(request, 200, {"id": key, "filename": filename})

    def inpaint(self, image_id, mask_id):
        """Fill what the mask marks (RGBA alpha 0, or grey > 0) with mid grey."""
        image = np.asarray(Image.open(io.BytesIO(self.images[image_id])).convert("RGB")).copy()
        mask = Image.open(io.BytesIO(self.masks[mask_id]))
        remove = (
            np.asarray(mask)[..., 3] == 0
            if mask.mode == "RGBA"
            else np.asarray(mask.convert("L")) > 0
        )
        image[remove] = 128
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "PNG")
        return buffer.getvalue()


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


EXTERIOR_COLOURS = {"TERRACE": (190, 160, 120), "POOL": (40, 110, 200), "PETANQUE": (215, 190, 140)}


class FakeIacrea(FakeServer):
    """IACrea's declutter_total and create_exterior (decluttering-api.txt,
    exterior-creation-api.txt): JSON POSTs with x-api-key and user_id, images fetched from
    the URLs we send, STARTING → PROCESSING → SUCCEEDED over successive /get calls."""

    USER_ID = "5f0c6b1e-8d3a-4b2e-9c71-2a7e4d9b1f30"
    BODIES = {  # path -> (required keys, optional keys), as documented
        "declutter_total/generate": ({"user_id", "image_url"}, {"auto", "webhook"}),
        "declutter_total/generate-variation": (
            {"user_id", "generation_id", "original_url"},
            {"mask_url"},
        ),
        "create_exterior/generate": (
            {"user_id", "image_url", "mask_url", "room_type", "width", "height"},
            {"webhook"},
        ),
        "create_exterior/generate-variation": (
            {"user_id", "generation_id", "original_url"},
            {"mask_url", "room_type", "webhook"},
        ),
        "declutter_total/get": ({"user_id", "generation_id"}, set()),
        "create_exterior/get": ({"user_id", "generation_id"}, set()),
    }

    def __init__(self, key: str = "ia-key", *, bearer: bool = False):
        super().__init__()
        self.key, self.bearer = key, bearer
        self.generations: dict[str, dict] = {}
        self.results: dict[str, bytes] = {}
        self.remaining = 42
        self.polls_until_done = 2  # answers STARTING, PROCESSING, then SUCCEEDED
        self.fail_generations = False

    def handle(self, request, method, body):
        seen = Seen(method, request.path, dict(request.headers))
        self.seen.append(seen)
        if method == "GET" and request.path.startswith("/cdn/"):
            assert "x-api-key" not in request.headers and "Authorization" not in request.headers
            return self.send(request, 200, self.results[request.path], "image/jpeg")
        route = request.path.removeprefix("/api/")
        assert method == "POST" and route in self.BODIES, f"no such endpoint {request.path}"
        auth = (
            request.headers.get("Authorization")
            if self.bearer
            else request.headers.get("x-api-key")
        )
        expected = f"Bearer {self.key}" if self.bearer else self.key
        seen.json = self.json_body(request, body, required=self.BODIES[route][0],
                                   optional=self.BODIES[route][1])  # fmt: skip
        if auth != expected or seen.json["user_id"] != self.USER_ID:
            return self.reply(request, 401, {"message": "Invalid API key"})
        service, action = route.split("/")
        if action == "get":
            generation = self.generations.get(seen.json["generation_id"])
            if generation is None:
                return self.reply(request, 404, {"message": "Generation not found"})
            generation["polls"] += 1
            return self.reply(request, 200, self.retrieval(generation))
        return self.generate(request, service, action, seen.json)

    def generate(self, request, service, action, data):
        if action == "generate-variation":
            parent = self.generations[data["generation_id"]]
            assert parent["service"] == service
            image_url, mask_url = data["original_url"], data.get("mask_url", parent["mask_url"])
            kind = data.get("room_type", parent["kind"])
        else:
            image_url, mask_url = data["image_url"], data.get("mask_url")
            kind = data.get("room_type", "DECLUTTER")
            assert service == "create_exterior" or data.get("auto") is (mask_url is None)
        photo = self.fetch(image_url, "image/jpeg")
        if service == "create_exterior":
            assert kind in EXTERIOR_COLOURS, kind
            if action == "generate":
                assert (data["width"], data["height"]) == photo.size, (data, photo.size)
        area = np.zeros((photo.height, photo.width), bool)
        if mask_url:
            mask = self.fetch(mask_url, "image/png")
            assert mask.size == photo.size and mask.mode == "L", (mask.size, mask.mode)
            area = np.asarray(mask) > 127  # white marks the area
        else:
            area[
                photo.height // 3 : photo.height * 2 // 3, photo.width // 3 : photo.width * 2 // 3
            ] = True
        pixels = np.asarray(photo.convert("RGB")).copy()
        pixels[area] = EXTERIOR_COLOURS.get(kind, (128, 128, 128))
        key = str(uuid.uuid4())
        url = f"/cdn/{key}/1.jpg"
        self.results[url] = jpeg(Image.fromarray(pixels))
        self.generations[key] = {
            "id": key, "service": service, "kind": kind, "mask_url": mask_url, "polls": 0,
            "webhook": data.get("webhook"), "images": [self.cdn + url],
        }  # fmt: skip
        self.remaining -= 1
        reply = {"generation_id": key, "remaining_photos": self.remaining}
        if action == "generate":
            reply["project_id"] = str(uuid.uuid4())
        return self.reply(request, 200, reply)

    def fetch(self, url: str, content_type: str) -> Image.Image:
        """What IACrea does with the URLs we send: download them (following a redirect to
        the bucket, as any HTTP client does, when files are in one)."""
        import httpx

        response = httpx.get(url, timeout=10, follow_redirects=True)
        assert response.status_code == 200, (url, response.status_code)
        assert response.headers["Content-Type"] == content_type, response.headers
        image = Image.open(io.BytesIO(response.content))
        image.load()
        return image

    def retrieval(self, generation) -> dict:
        """The key names are not documented; these are plausible ones our client must find."""
        polls = generation["polls"]
        if self.fail_generations:
            status = "FAILED"
        elif polls > self.polls_until_done:
            status = "SUCCEEDED"
        else:
            status = ["STARTING", "PROCESSING"][min(polls - 1, 1)]
        # The documented fields only: status, images, variations; no generation id.
        answer = {"status": status, "variations_count": 1}
        if status == "SUCCEEDED":
            answer["output_urls"] = generation["images"]
        return answer

    def call_webhook(self, generation_id: str):
        """IACrea's completion call: the body is the retrieval answer."""
        import httpx

        generation = self.generations[generation_id]
        generation["polls"] = self.polls_until_done + 1
        return httpx.post(generation["webhook"], json=self.retrieval(generation), timeout=10)


def _item(title: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "title": title,
        "prompt": title,
        "icon_src": "",
        "is_premium": False,
    }


class FakeAiHomeDesign(FakeServer):
    """AI HomeDesign v1 (PROVIDERS.md §1, aihomedesign-item-removal-mask.txt) as a server.
    The dashboard's webhook URL is `webhook_url`; the upscale webhook follows each
    upscale call, the generated-image webhook is sent by `send_generated_webhook`."""

    UPLOAD_SERVICES = {
        "service-creative-designer", "service-ai-virtual-staging", "service-item-removal",
        "service-day-to-dusk", "service-image-enhancement", "service-item-removal-mask",
    }  # fmt: skip
    ROOMS = [
        "space-bedroom",
        "space-living-room",
        "space-kitchen--",
        "space-dining-room",
        "space-bathroom--",
        "space-home-office",
        "space-kids-room-1",
        "space-outdoor--",
    ]
    STYLES = [
        "Modern",
        "Scandinavian",
        "Industrial",
        "Farmhouse",
        "Coastal",
        "Contemporary",
        "Traditional",
        "Hampton",
    ]  # fmt: skip (no Luxury)
    PAINT = (0x78, 0x78, 0xCD, 255)

    def __init__(self, key: str = "aihd-key"):
        super().__init__()
        self.key = key
        self.webhook_url = ""
        self.limit = 10  # orders per window, then 429
        self.submitted = 0
        self.polls_until_done = 1
        self.mask_refusal: tuple[str, int] | None = None  # (error, numeric key) for masks
        self.orders: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        style = {"id": "w-style", "title": "Style", "is_optional": False,
                 "items": [_item(t) for t in self.STYLES]}  # fmt: skip
        colour = {"id": "w-colour", "title": "Color", "is_optional": True,
                  "items": [_item(t) for t in ("Warm Tones", "Cool Tones", "Earthy Neutrals",
                                               "Monochrome", "Pastel")]}  # fmt: skip
        self.catalog = {  # service -> (spaces, widgets)
            "service-ai-virtual-staging": (self.ROOMS, [style]),
            "service-creative-designer": (self.ROOMS, [style, colour]),
            "service-image-enhancement": (
                ["space-indoor", "space-outdoor"],
                [{"id": "w-enh", "title": "Enhancement Options", "is_optional": True,
                  "items": [_item("Add Fire to Fireplace"), _item("Add Screen to TV")]}],
            ),
            "service-day-to-dusk": (
                [],
                [{"id": "w-sky", "title": "Sky Style", "is_optional": False,
                  "items": [_item(t) for t in ("Twilight Sky Without Cloud", "Golden Hour Sky",
                                               "Blue Twilight Sky")]}],
            ),
        }  # fmt: skip
        self.space_ids = {
            name: str(uuid.uuid4()) for name in [*self.ROOMS, "space-indoor", "space-outdoor"]
        }

    def error(self, request, status, text, key):
        return self.reply(request, status, {"error": text, "key": key})

    def handle(self, request, method, body):
        seen = Seen(method, request.path, dict(request.headers))
        self.seen.append(seen)
        if method == "GET" and request.path.startswith("/cdn/"):
            assert "x-api-key" not in request.headers
            return self.send(request, 200, self.files[request.path], "image/jpeg")
        if request.headers.get("x-api-key") != self.key:
            return self.error(request, 401, "unauthorized", "api_error_unauthorized")
        path, _, query = request.path.partition("?")
        params = dict(item.split("=", 1) for item in query.split("&") if item)
        assert path.startswith("/v1/"), path
        route = path[3:]
        if (method, route) == ("POST", "/order/image"):
            seen.fields = self.multipart(request, body, expect={"image", "service_name"})
            return self.upload(request, seen.fields)
        if (method, route) == ("GET", "/catalog/spaces"):
            assert set(params) == {"active", "service_name"}, params
            spaces = self.catalog.get(params["service_name"], ([], []))[0]
            data = [
                {
                    "id": self.space_ids[n],
                    "name": n,
                    "title": n.removeprefix("space-").strip("-1").replace("-", " ").title(),
                    "description": "",
                    "prompt": "",
                    "icon_src": "",
                    "is_active": True,
                    "is_premium": False,
                }
                for n in spaces
            ]
            return self.reply(request, 200, {"data": data})
        if (method, route) == ("GET", "/catalog/items/filter"):
            assert set(params) in ({"service_name"}, {"service_name", "space_name"}), params
            spaces, widgets = self.catalog.get(params["service_name"], ([], []))
            assert params.get("space_name", "") in spaces or not spaces, params
            return self.reply(request, 200, {"data": widgets})
        if (method, route) == ("POST", "/order"):
            seen.json = json.loads(body)
            assert request.headers["Content-Type"] == "application/json"
            return self.submit(request, seen.json)
        if (method, route) == ("POST", "/order/manual-mask"):
            seen.fields = self.multipart(request, body, expect={"mask", "order_id"})
            return self.manual_mask(request, seen.fields)
        if (method, route) == ("POST", "/order/done"):
            assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
            form = dict(item.split("=", 1) for item in body.decode().split("&"))
            assert set(form) == {"order_id", "image_id"}, form
            order = self.orders[form["order_id"]]
            assert form["image_id"] == order["temp"]["image_id"] != "tmp-0"
            order["done"] = True
            return self.reply(request, 200, {"message": "order done successfully"})
        parts = route.split("/")
        if method == "GET" and len(parts) == 3 and parts[1] == "order":
            return self.details(request, parts[2])
        if method == "GET" and len(parts) == 4 and parts[3] == "last-temp-image":
            return self.last_temp_image(request, parts[2])
        if (
            method == "POST"
            and route.startswith("/order/image/")
            and route.endswith("/download/upscale")
        ):
            assert body == b"", body
            return self.upscale(request, parts[3])
        return self.error(request, 404, "not found", "api_error_not_found")

    def upload(self, request, fields):
        service = fields["service_name"].decode()
        assert service in self.UPLOAD_SERVICES, service
        photo = Image.open(io.BytesIO(fields["image"]))
        photo.load()
        key = str(uuid.uuid4())
        url = f"/cdn/{key}/before.jpg"
        self.files[url] = fields["image"]
        self.orders[key] = {"service": service, "photo": photo, "polls": 0, "images": [],
                            "temp": {"image_id": "tmp-0", "url": self.cdn + url},
                            "mask": None, "submitted": False, "done": False}  # fmt: skip
        return self.reply(request, 200, {"order_id": key})

    def submit(self, request, data):
        order = self.orders.get(data.get("order_id"))
        if order is None:
            return self.error(request, 404, "order not found", "api_error_order_not_found")
        service = order["service"]
        spaces, widgets = self.catalog.get(service, ([], []))
        if service == "service-item-removal-mask":
            assert set(data) == {"order_id", "service_name"} and data["service_name"] == service
            if order["mask"] is None:
                return self.error(request, 400, "no mask", 4001)  # the docs' numeric key
        elif service == "service-item-removal":
            assert set(data) == {"order_id"}, data
        elif service == "service-day-to-dusk":
            assert set(data) == {"order_id", "remove_shadow", "selected_widgets"}, data
            assert isinstance(data["remove_shadow"], bool)
        else:
            assert set(data) == {"order_id", "space_name", "selected_widgets"}, data
            assert data["space_name"] in spaces, data["space_name"]
        for chosen in data.get("selected_widgets", []):
            assert set(chosen) == {"id", "item_id"}, chosen
            widget = next(w for w in widgets if w["id"] == chosen["id"])
            assert chosen["item_id"] in [i["id"] for i in widget["items"]], chosen
        chosen_ids = {c["id"] for c in data.get("selected_widgets", [])}
        assert all(w["is_optional"] or w["id"] in chosen_ids for w in widgets), data
        if self.submitted >= self.limit:
            return self.error(
                request, 429, "rate-limit exceeded, 10 generates per 10 minutes only", "rate_limit"
            )
        self.submitted += 1
        order["submitted"], order["request"] = True, data
        return self.reply(
            request, 200, {"order_id": data["order_id"], "image_id": str(uuid.uuid4()), "eta": 30}
        )

    def result(self, order, colour, scale=1) -> str:
        photo = order["photo"].convert("RGB")
        pixels = np.asarray(photo).copy()
        if order["mask"] is not None:
            pixels[order["mask"]] = colour
        else:
            h, w = pixels.shape[:2]
            pixels[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = colour
        image = Image.fromarray(pixels)
        if scale != 1:
            image = image.resize((image.width * scale, image.height * scale))
        url = f"/cdn/{uuid.uuid4()}.jpg"
        self.files[url] = jpeg(image)
        return self.cdn + url

    def details(self, request, key):
        order = self.orders.get(key)
        if order is None:
            return self.error(request, 404, "order not found", "api_error_order_not_found")
        order["polls"] += 1
        if order["submitted"] and order["polls"] > self.polls_until_done and not order["images"]:
            order["images"] = [{"id": str(uuid.uuid4()), "src": self.result(order, (200, 60, 60)),
                                "status": "regular_finished", "sequence": 1}]  # fmt: skip
        generated = order["images"] or [{"id": "pending", "src": "", "status": "in_progress"}]
        return self.reply(request, 200, {
            "id": key, "status": "idle", "service_name": order["service"],
            "service": {"name": order["service"], "result_count": 1},
            "generated_images": generated if order["submitted"] else [],
        })  # fmt: skip

    def upscale(self, request, image_id):
        order = next(
            o for o in self.orders.values() if any(i["id"] == image_id for i in o["images"])
        )
        link = self.result(order, (200, 60, 60), scale=2)
        if self.webhook_url:
            payload = {"generated_image_id": image_id, "upscaled_image_src": link, "user_id": "u-1"}
            threading.Timer(0.05, self.post_webhook, [payload]).start()
        return self.reply(request, 200, {"status": "processing"})

    def post_webhook(self, payload):
        self.webhook_answers = getattr(self, "webhook_answers", [])
        self.webhook_answers.append(self.post_json(payload))

    def post_json(self, payload) -> int:
        """A call to the webhook URL registered in the dashboard; its status code."""
        import httpx

        return httpx.post(self.webhook_url, json=payload, timeout=10).status_code

    def manual_mask(self, request, fields):
        order = self.orders.get(fields["order_id"].decode())
        if order is None:
            return self.error(request, 404, "order not found", 4004)
        if self.mask_refusal:
            return self.error(request, 400, *self.mask_refusal)
        mask = Image.open(io.BytesIO(fields["mask"]))
        assert mask.format == "PNG" and mask.mode == "RGBA", (mask.format, mask.mode)
        assert mask.size == order["photo"].size, (mask.size, order["photo"].size)
        pixels = np.asarray(mask)
        painted = (pixels == self.PAINT).all(axis=2)
        assert (painted | (pixels[..., 3] == 0)).all(), "only opaque #7878CD or transparent"
        order["mask"] = painted
        return self.reply(request, 200, {"maskId": str(uuid.uuid4())})

    def last_temp_image(self, request, key):
        order = self.orders[key]
        if order["submitted"]:
            order["polls"] += 1
            if order["polls"] > self.polls_until_done and order["temp"]["image_id"] == "tmp-0":
                order["temp"] = {"image_id": "tmp-1", "url": self.result(order, (128, 128, 128))}
        return self.reply(request, 200, order["temp"])

    def send_generated_webhook(self, key, *, legacy=False):
        import httpx

        image = {"id": "g-1", "before_src": "", "after_src": "", "regenerated": False}
        payload = {"order_id": key, "service_name": self.orders[key]["service"], "user_id": "u-1"}
        payload |= {"images": [image]} if legacy else {"image": image}
        return httpx.post(self.webhook_url, json=payload, timeout=10)
