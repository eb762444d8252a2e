"""Fake provider servers: real HTTP on localhost that accept only requests exactly as the
providers' documentation describes them, and answer with the documented shapes."""

import email.parser
import email.policy
import io
import json
import threading
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


class FakeObjectRemover:
    """../shared/provider-docs/object-remover-http-api.txt, as a server."""

    def __init__(self, token: str = ""):
        self.token = token
        self.images: dict[str, bytes] = {}
        self.masks: dict[str, bytes] = {}
        self.results: dict[str, bytes] = {}
        self.seen: list[Seen] = []
        self.fail: dict[str, list[int]] = {}  # path -> statuses to answer first
        self.forget_once = False  # a restart: the next /inpaint finds no ids
        self.broken_result = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.handle(self, "GET")

            def do_POST(self):
                fake.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()

    def handle(self, request, method):
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        seen = Seen(method, request.path, dict(request.headers))
        self.seen.append(seen)
        if self.fail.get(request.path):
            return self.reply(request, self.fail[request.path].pop(0), {"error": "busy"})
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
            assert request.headers["Content-Type"] == "application/json", request.headers
            seen.json = json.loads(body)
            assert set(seen.json) == {"image_id", "mask_id"}, seen.json
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
            request.send_response(200)
            request.send_header("Content-Type", "image/png")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
            return None
        return self.reply(request, 404, {"detail": "Not Found"})

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

    def reply(self, request, status, payload):
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
