"""AdCreative.ai's Background Remover (../shared/provider-docs/adcreative-background-remover.txt
and PROVIDERS.md §4) as a real HTTP server on localhost.

It takes only requests exactly as documented (method, path, query names, headers, JSON
keys, multipart fields): anything else is answered 400 with an RFC 7807 body and recorded
in `errors`. Tokens come from GenerateJwtToken and are checked on every feature call (401
with the documented ProblemDetails when unknown, expired or revoked). A job goes from
requestRenderState 1 through an undocumented in-between state to 5 over successive
CheckUserProgress calls; its result is the photo with its left third transparent.
"""

import base64
import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
from PIL import Image

from .fakes import FakeServer, Seen

API = "/api/v1/Image/BackgroundRemoving"
TOKEN_PATH = "/api/v1/Authorization/GenerateJwtToken"
STARTED, IN_BETWEEN, COMPLETED = 1, 3, 5  # 3 is not documented: clients must wait on it


def problem(status: int, errors: dict, title: str = "One or more errors occurred.") -> dict:
    """The ProblemDetails shape of the 401 and 404 answers (traceId under extensions)."""
    return {
        "errors": errors,
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": title,
        "status": status,
        "detail": None,
        "instance": None,
        "extensions": {"traceId": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00"},
    }


def validation_problem(errors: dict) -> dict:
    """The 400 shape, with .NET's "$id" and a top-level traceId."""
    return {
        "$id": "1",
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {"$id": "2", **errors},
        "traceId": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00",
    }


UNAUTHORISED = {
    "business:": ["Token is missing, invalid or ApplicationId is not found in the token."]
}


def cut_out(photo: Image.Image) -> bytes:
    """The "background removed" result: the photo as RGBA, its left third transparent."""
    pixels = np.asarray(photo.convert("RGBA")).copy()
    pixels[:, : photo.width // 3] = (0, 0, 0, 0)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


class FakeAdCreative(FakeServer):
    APPLICATION_ID = "4f7d8a9c-b5e6-4d3e-b7a9-d5c3e1b7a4f6"
    USER_ID = "2581c740-8e9d-4d63-96bc-5665bb9a646b"
    JWT_PRIVATE_KEY = "8b1e0c9d7a6f5e4d3c2b1a09f8e7d6c5b4a39281"
    API_KEY = "a1c3b5d7e9f6a8c4d2e9b3f7c5a9"
    API_SECRET = "f5c6a7b8e9d4f1a3c7b6e8f3a9d5"

    def __init__(self):
        super().__init__()
        self.tokens: dict[str, float] = {}  # access token -> when it expires (time.time())
        self.current = ""  # the token issued last
        self.token_seconds = 3600.0
        self.expiration_digits = 2  # the doc's "…:50.97Z"; .NET also writes 7 digits
        self.jobs: dict[str, dict] = {}  # imageRenderProcessId -> job
        self.polls_until_done = 2  # answers 1, then 3, then 5 (completed)
        self.fail_jobs = False
        self.unlisted_polls = 0  # CheckUserProgress does not know a new job this many times
        self.revoke_before = ""  # an endpoint path: revoke the token when it is first called

    # --- Controls for tests --------------------------------------------------------------

    def revoke(self):
        """The current token stops working: the next call with it gets 401."""
        self.tokens.pop(self.current, None)

    def forget(self, process: str):
        """The job leaves the progress lists (finished jobs may); its result stays."""
        self.jobs[process]["polls"] = self.polls_until_done + 1
        self.jobs[process]["listed"] = False

    def notification(self, process: str, *, successful: bool = True) -> dict:
        """The TaskCompleted webhook body (PascalCase, the image inline as base64)."""
        job = self.jobs[process]
        return {
            "MessageType": "ImageBackgroundRemovingTaskCompleted",
            "ApplicationId": self.APPLICATION_ID,
            "UserId": self.USER_ID,
            "ImageRenderProcessId": process,
            "TaskId": job["task"],
            "ImageContentBytes": base64.b64encode(job["result"]).decode() if successful else "",
            "IsSuccessful": successful,
            "ErrorMessage": "" if successful else "Background removing failed.",
        }

    def notify(self, url: str, process: str, **options) -> httpx.Response:
        """What AdCreative's WebHook channel does: POST the notification as JSON."""
        return httpx.post(url, json=self.notification(process, **options), timeout=10)

    # --- The API -------------------------------------------------------------------------

    def handle(self, request, method, body):
        url = urlsplit(request.path)
        seen = Seen(method, request.path, {k.lower(): v for k, v in request.headers.items()})
        self.seen.append(seen)
        try:
            query = {name: values[0] for name, values in parse_qs(url.query).items()}
            assert all(len(v) == 1 for v in parse_qs(url.query).values()), url.query
            if url.path == TOKEN_PATH:
                assert method == "POST", method
                return self.generate_token(request, body, seen)
            return self.feature(request, method, url.path, query, body, seen)
        except AssertionError as error:  # a request the docs do not describe
            self.errors.append(f"{method} {request.path}: {error}")
            problem_body = validation_problem({"request": [f"not as documented: {error}"]})
            return self.reply(request, 400, problem_body)

    def generate_token(self, request, body, seen):
        headers = seen.headers
        assert headers.get("content-type") == "application/json; x-api-version=1.0", headers
        assert headers.get("accept") == "application/json", headers
        seen.json = json.loads(body)
        assert set(seen.json) == {"applicationId", "jwtPrivateKey"}, sorted(seen.json)
        if (seen.json["applicationId"], seen.json["jwtPrivateKey"]) != (
            self.APPLICATION_ID,
            self.JWT_PRIVATE_KEY,
        ):
            return self.reply(request, 401, problem(401, UNAUTHORISED))
        now = datetime.now(UTC)
        self.current = "eyJ" + uuid.uuid4().hex + uuid.uuid4().hex
        expires = now + timedelta(seconds=self.token_seconds)
        self.tokens[self.current] = expires.timestamp()
        return self.reply(
            request,
            200,
            {
                "$id": "1",
                "applicationId": self.APPLICATION_ID,
                "accessToken": self.current,
                "accessTokenExpiration": self.iso(expires),
                "refreshToken": uuid.uuid4().hex,
                "refreshTokenExpiration": self.iso(expires + timedelta(days=7)),
            },
        )

    def iso(self, moment: datetime) -> str:
        """.NET's UTC format, truncated to `expiration_digits` fractional digits."""
        fraction = f"{moment.microsecond:06d}0"[: self.expiration_digits]
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction}Z"

    def feature(self, request, method, path, query, body, seen):
        routes = {
            ("POST", f"{API}/AdCreative"): self.start,
            ("GET", f"{API}/CheckUserProgress"): self.check_user_progress,
            ("GET", f"{API}/CheckApplicationAllProgresses"): self.check_application,
            ("GET", f"{API}/Download"): self.download,
        }
        assert (method, path) in routes, f"no such endpoint {method} {path}"
        headers = seen.headers
        assert headers.get("accept") == "application/json", headers.get("accept")
        assert "x-api-key" in headers and "x-api-secret" in headers, "no API key or secret"
        assert headers.get("authorization", "").startswith("Bearer "), "no Bearer token"
        if path == self.revoke_before:
            self.revoke_before = ""
            self.revoke()
        token = headers["authorization"].removeprefix("Bearer ")
        if (
            self.tokens.get(token, 0) < time.time()
            or headers["x-api-key"] != self.API_KEY
            or headers["x-api-secret"] != self.API_SECRET
        ):
            return self.reply(request, 401, problem(401, UNAUTHORISED))
        return routes[(method, path)](request, query, body, seen)

    def start(self, request, query, body, seen):
        assert not query, query
        fields = self.multipart(request, body, expect={"applicationId", "userId", "uploadedImage"})
        seen.fields = fields
        assert fields["applicationId"].decode() == self.APPLICATION_ID, fields["applicationId"]
        assert fields["userId"].decode() == self.USER_ID, fields["userId"]
        photo = Image.open(io.BytesIO(fields["uploadedImage"]))
        assert photo.format in {"JPEG", "PNG"}, photo.format  # ".jpg or .png"
        process, task = str(uuid.uuid4()), str(uuid.uuid4())
        self.jobs[process] = {
            "task": task, "polls": 0, "listed": True, "unlisted": self.unlisted_polls,
            "result": cut_out(photo), "failed": self.fail_jobs,
        }  # fmt: skip
        return self.reply(request, 200, self.progress(process, first_id=1))

    def state(self, job) -> tuple[int, int]:
        """(requestRenderState, progress) after the polls the job has had."""
        if job["polls"] > self.polls_until_done:
            return COMPLETED, 100
        if job["polls"] == 0:
            return STARTED, 0
        return IN_BETWEEN, 100 * job["polls"] // (self.polls_until_done + 1)

    def progress(self, process: str, *, first_id: int) -> dict:
        job = self.jobs[process]
        render_state, progress = self.state(job)
        if job["failed"]:
            render_state, progress = COMPLETED, 100  # finished, unsuccessfully
        return {
            "$id": str(first_id),
            "messageType": "ImageBackgroundRemovingProgress",
            "requestRenderState": render_state,
            "applicationId": self.APPLICATION_ID,
            "userId": self.USER_ID,
            "imageRenderProcessId": process,
            "totalTaskCount": 1,
            "completedTaskCount": int(render_state == COMPLETED),
            "progress": progress,
            "tasks": {"$id": str(first_id + 1), job["task"]: render_state},
            "renderType": 8,
            "isSuccessful": not job["failed"],
            "errorMessage": "An error occurred while removing the background."
            if job["failed"]
            else "",
        }

    def listing(self, request, processes: list[str], not_found: dict):
        if not processes:
            return self.reply(request, 404, problem(404, not_found))
        values = [self.progress(p, first_id=2 * i + 2) for i, p in enumerate(processes)]
        return self.reply(request, 200, {"$id": "1", "$values": values})

    def visible(self, process: str) -> bool:
        job = self.jobs[process]
        if job["unlisted"] > 0:  # registered a little after the start answer
            job["unlisted"] -= 1
            return False
        return job["listed"]

    def check_user_progress(self, request, query, body, seen):
        assert "userId" in query, "userId is required"
        assert set(query) <= {"userId", "imageBackgroundRemoverProcessId"}, sorted(query)
        assert query["userId"] == self.USER_ID, query["userId"]
        wanted = query.get("imageBackgroundRemoverProcessId")
        processes = [p for p in self.jobs if wanted in (None, p) and self.visible(p)]
        for process in processes:
            self.jobs[process]["polls"] += 1
        engine = "No running or incomplete ImageBackgroundRemovingProcess was found"
        return self.listing(
            request,
            processes,
            {
                "engine: CheckProgress": [f"{engine} for the User: {self.USER_ID}"],
                "business: CheckUserProgress": ["Not found error occurred."],
            },
        )

    def check_application(self, request, query, body, seen):
        assert set(query) == {"applicationId"}, sorted(query)
        assert query["applicationId"] == self.APPLICATION_ID, query["applicationId"]
        processes = [p for p in self.jobs if self.visible(p)]
        return self.listing(
            request,
            processes,
            {"business: CheckApplicationAllProgresses": ["Not found error occurred."]},
        )

    def download(self, request, query, body, seen):
        required = {"applicationId", "taskId", "imageBackgroundRemoverProcessId"}
        assert required <= set(query) <= required | {"lowResolution"}, sorted(query)
        assert query["applicationId"] == self.APPLICATION_ID, query["applicationId"]
        assert query.get("lowResolution", "false") in {"true", "false"}, query["lowResolution"]
        job = self.jobs.get(query["imageBackgroundRemoverProcessId"])
        if (
            job is None
            or job["task"] != query["taskId"]
            or job["failed"]
            or self.state(job)[0] != COMPLETED
        ):
            return self.reply(
                request,
                404,
                problem(
                    404,
                    {
                        "engine: BackgroundRemoving/Download": ["Image content not found."],
                        "business: BackgroundRemoving/Download": [
                            "Not found error occurred while getting original image content stream"
                        ],
                    },
                ),
            )
        # A "FileStream": the doc names no content type, so the client must not rely on one.
        return self.send(request, 200, job["result"], "application/octet-stream")
