"""AdCreative.ai Background Remover (../shared/provider-docs/adcreative-background-remover.txt,
PROVIDERS.md §4).

A JWT from GenerateJwtToken (kept in Django's cache until shortly before it expires) and
the API key and secret authorise every call. Start uploads the photo; CheckUserProgress is
polled until the job's requestRenderState is 5 (completed); each task's image then comes
from Download, a PNG with a transparent background. AdCreative may also POST notifications:
they only make us poll now. The inline ImageContentBytes are never used: the result is
fetched through the authenticated Download, size-limited and checked like any other.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache

from ..models import Order
from .base import Outcome, Provider, ProviderError, Report, ResultImage, WebhookMatch
from .http import ApiClient, provider_client, read_json, read_object
from .inputs import as_jpeg, downloaded_result, upright_photo

T = TypeVar("T")
API = "/api/v1/Image/BackgroundRemoving"
DONE = 5  # RenderState "completed"; only 1 (started) and 5 are documented, so all else waits
RENEW_BEFORE = 300  # seconds: renew a token when fewer than these remain


class AdCreativeProvider(Provider):
    name = "adcreative"
    label = "AdCreative"
    bills_per_job = True

    def unavailable_reason(self) -> str | None:
        needed = (
            settings.ADCREATIVE_APPLICATION_ID,
            settings.ADCREATIVE_JWT_PRIVATE_KEY,
            settings.ADCREATIVE_API_KEY,
            settings.ADCREATIVE_API_SECRET,
            settings.ADCREATIVE_USER_ID,
        )
        return None if all(needed) else "needs an AdCreative API key"

    def refuses(self, order: Order) -> str | None:
        if order.service != "background_removal":
            return f"AdCreative has no {order.service_info.label.lower()} here"
        return None

    def submit(self, order: Order, report: Report) -> Outcome:
        photo = as_jpeg(upright_photo(order))  # the docs take .jpg or .png; ours may be HEIC
        report(5, None)
        fields = {
            "applicationId": settings.ADCREATIVE_APPLICATION_ID,
            "userId": settings.ADCREATIVE_USER_ID,
        }
        files = {"uploadedImage": ("photo.jpg", photo, "image/jpeg")}
        reply = read_json(
            self._call(
                lambda api: api.request("POST", f"{API}/AdCreative", data=fields, files=files)
            ),
            self.label,
        )
        process = reply.get("imageRenderProcessId") if isinstance(reply, dict) else None
        if not isinstance(process, str) or not process:
            raise ProviderError(
                "AdCreative did not accept the job.",
                permanent=True,
                detail=f"answer: {reply}"[:500],
            )
        _fail_if_unsuccessful(reply)
        return Outcome(images=None, ref=process, state={"tasks": list(_tasks(reply))})

    def poll(self, order: Order, report: Report) -> Outcome:
        process = order.provider_ref
        job = self._progress(process) or order.provider_state.get("notified")
        if job is None:
            # Not listed, or 404 ("No running or incomplete ... process was found"): a job
            # just started may not be registered yet, and the progress lists may keep only
            # unfinished jobs. So it waits, unless a notification said it ended; the order's
            # time limit (REMOTE_MAX_WAIT_SECONDS) ends a job that never shows up.
            return Outcome(images=None, state={"render_state": None})
        _fail_if_unsuccessful(job)
        render_state, task_states = job.get("requestRenderState"), _tasks(job)
        if render_state != DONE or any(value != DONE for value in task_states.values()):
            progress = job.get("progress")
            progress = min(100, max(0, progress)) if isinstance(progress, int | float) else 0
            report(10 + round(progress * 0.8), None)
            return Outcome(images=None, state={"render_state": render_state, "progress": progress})
        tasks = [task for task in task_states if task] or order.provider_state.get("tasks") or []
        if not tasks:
            raise ProviderError(
                "AdCreative finished without an image.",
                permanent=True,
                detail=f"process {process} completed with no task id",
            )
        report(90, None)
        images = [self._download(process, task) for task in tasks[: order.service_info.max_results]]
        return Outcome(images=images, state={"render_state": DONE})

    def webhook_matches(self, payload: dict) -> list[WebhookMatch]:
        # The documented notification is PascalCase; the REST answers are camelCase.
        fields = {str(key).lower(): value for key, value in payload.items()}
        process = fields.get("imagerenderprocessid")
        if not isinstance(process, str) or not process:
            return []
        state = {}
        if str(fields.get("messagetype", "")).endswith("TaskCompleted"):
            # Kept as the progress object it amounts to, for when the job has left the
            # progress list (polling could not tell then).
            state["notified"] = {
                "requestRenderState": DONE,
                "tasks": {str(fields.get("taskid") or ""): DONE},
                "isSuccessful": fields.get("issuccessful") is not False,
                "errorMessage": str(fields.get("errormessage") or ""),
            }
        orders = Order.objects.filter(provider=self.name, provider_ref__iexact=process)
        return [WebhookMatch(order, state) for order in orders]

    def _progress(self, process: str) -> dict | None:
        query = {"userId": settings.ADCREATIVE_USER_ID, "imageBackgroundRemoverProcessId": process}
        try:
            response = self._call(
                lambda api: api.request("GET", f"{API}/CheckUserProgress", params=query)
            )
        except ProviderError as error:
            if error.status == 404:
                return None
            raise
        return find_progress(read_json(response, self.label), process)

    def _download(self, process: str, task: str) -> ResultImage:
        query = urlencode({
            "applicationId": settings.ADCREATIVE_APPLICATION_ID,
            "taskId": task,
            "imageBackgroundRemoverProcessId": process,
            "lowResolution": "false",
        })  # fmt: skip
        # A path on our host, so the Bearer headers go along; keep_alpha: the cut-out's point.
        url = f"{API}/Download?{query}"
        return self._call(lambda api: downloaded_result(api, url, keep_alpha=True))

    def _call(self, action: Callable[[ApiClient], T]) -> T:
        """The action with a valid token; once more with a new token if AdCreative answers
        401 (a token revoked or expired early). A second 401 is a real refusal."""
        api = _api(_token())
        try:
            return action(api)
        except ProviderError as error:
            if error.status != 401:
                raise
        cache.delete(_cache_key())
        return action(_api(_token()))


def _api(token: str | None = None) -> ApiClient:
    """A client for feature calls (with a token), or for GenerateJwtToken (without)."""
    headers = {"Accept": "application/json"}
    if token:
        headers |= {
            "Authorization": f"Bearer {token}",
            "x-api-key": settings.ADCREATIVE_API_KEY,
            "x-api-secret": settings.ADCREATIVE_API_SECRET,
        }
    return provider_client(
        label="AdCreative", base_url=settings.ADCREATIVE_BASE_URL, headers=headers
    )


def _cache_key() -> str:
    return f"adcreative-jwt:{settings.ADCREATIVE_APPLICATION_ID}"


def _token() -> str:
    """An access token, from the cache or from GenerateJwtToken."""
    token = cache.get(_cache_key())
    if token:
        return token
    body = {
        "applicationId": settings.ADCREATIVE_APPLICATION_ID,
        "jwtPrivateKey": settings.ADCREATIVE_JWT_PRIVATE_KEY,
    }
    reply = read_object(
        _api().request(
            "POST",
            "/api/v1/Authorization/GenerateJwtToken",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json; x-api-version=1.0"},
            idempotent=True,
        ),
        "AdCreative",
    )
    token = reply.get("accessToken")
    if not isinstance(token, str) or not token:
        raise ProviderError(
            "AdCreative sent an answer we could not read.",
            permanent=False,
            detail="GenerateJwtToken answered without an accessToken",
        )
    # Renew RENEW_BEFORE seconds before expiry, or halfway through a shorter life. A token
    # whose expiry cannot be read serves this call only.
    left = seconds_left(reply.get("accessTokenExpiration"))
    keep = left - min(RENEW_BEFORE, left / 2)
    if keep >= 1:
        cache.set(_cache_key(), token, timeout=int(keep))
    return token


def seconds_left(expiration: object) -> float:
    """Seconds until an ISO date such as "2024-12-20T11:57:50.97Z" (0 if unreadable).
    Python 3.11 reads "Z" and any number of fractional digits (.NET writes up to 7)."""
    try:
        moment = datetime.fromisoformat(expiration)  # type: ignore[arg-type]  # TypeError below
    except (TypeError, ValueError):
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # .NET servers write UTC, sometimes without "Z"
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def find_progress(reply: object, process: str) -> dict | None:
    """Our job's progress object in a CheckUserProgress answer: {"$id", "$values": [...]}
    as documented (.NET reference preservation), or a bare list or object."""
    if isinstance(reply, dict):
        reply = reply.get("$values", [reply])
    for item in reply if isinstance(reply, list) else []:
        if (
            isinstance(item, dict)
            and str(item.get("imageRenderProcessId")).lower() == process.lower()
        ):
            return item
    return None


def _tasks(progress: dict) -> dict:
    """Task id -> render state; keys starting with "$" are .NET bookkeeping."""
    tasks = progress.get("tasks")
    if not isinstance(tasks, dict):
        return {}
    return {key: value for key, value in tasks.items() if not key.startswith("$")}


def _fail_if_unsuccessful(progress: dict) -> None:
    if progress.get("isSuccessful") is False or progress.get("errorMessage"):
        raise ProviderError(
            "AdCreative could not remove the background.",
            permanent=True,
            detail=f"{progress.get('errorMessage') or 'isSuccessful is false'}"[:500],
        )
