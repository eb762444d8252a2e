"""The AdCreative client against a fake AdCreative that takes only documented requests."""

import io
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from django.core.cache import cache
from django.urls import reverse
from PIL import Image

from orders.catalog import get_service
from orders.models import Order
from orders.providers import availability
from orders.providers.adcreative import find_progress, seconds_left
from orders.providers.handover import webhook_secret, webhook_url
from orders.services import OrderRefused, order_place
from orders.tasks import poll_order_task, run_order_task

from .factories import run_to_the_end
from .fake_adcreative import API, TOKEN_PATH, FakeAdCreative
from .images import BLUE, RED
from .queue import queue_clear, queued

START, PROGRESS, DOWNLOAD = f"{API}/AdCreative", f"{API}/CheckUserProgress", f"{API}/Download"


@pytest.fixture
def fake(settings):
    server = FakeAdCreative()
    settings.ADCREATIVE_BASE_URL = server.url
    settings.ADCREATIVE_APPLICATION_ID = FakeAdCreative.APPLICATION_ID
    settings.ADCREATIVE_JWT_PRIVATE_KEY = FakeAdCreative.JWT_PRIVATE_KEY
    settings.ADCREATIVE_API_KEY = FakeAdCreative.API_KEY
    settings.ADCREATIVE_API_SECRET = FakeAdCreative.API_SECRET
    settings.ADCREATIVE_USER_ID = FakeAdCreative.USER_ID
    settings.PROVIDER_BACKOFF_SECONDS = 0.01
    settings.ORDER_PROVIDERS = {"background_removal": ["adcreative"]}
    cache.clear()  # no token from another test
    yield server
    server.close()
    cache.clear()
    assert not server.errors, server.errors


@pytest.fixture
def photo(sideways_photo):
    return sideways_photo


def place(agent, photo):
    return order_place(user=agent, photo=photo, service="background_removal", options={})


def calls(fake) -> list[str]:
    return [f"{s.method} {urlsplit(s.path).path}" for s in fake.seen]


def query(seen) -> dict:
    return {name: values[0] for name, values in parse_qs(urlsplit(seen.path).query).items()}


def tokens_used(fake) -> list[str]:
    return [s.headers["authorization"] for s in fake.seen if "authorization" in s.headers]


def test_an_order_goes_through_the_documented_flow(fake, agent, photo):
    credits = agent.credits
    order = place(agent, photo)
    run_order_task.call(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "processing" and order.progress == 10
    poll_order_task.call(order_id=order.pk)  # state 3, progress 33: an undocumented state waits
    order.refresh_from_db()
    assert order.status == "processing" and order.progress == 10 + round(33 * 0.8)
    order = run_to_the_end(order)

    assert (order.status, order.provider) == ("succeeded", "adcreative")
    assert calls(fake) == [
        f"POST {TOKEN_PATH}",
        f"POST {START}",
        f"GET {PROGRESS}",  # 3, progress 33
        f"GET {PROGRESS}",  # 3, progress 66
        f"GET {PROGRESS}",  # 5: completed
        f"GET {DOWNLOAD}",
    ]
    token, start, progress, download = fake.seen[0], fake.seen[1], fake.seen[2], fake.seen[-1]
    assert token.headers["content-type"] == "application/json; x-api-version=1.0"
    assert token.json == {
        "applicationId": FakeAdCreative.APPLICATION_ID,
        "jwtPrivateKey": FakeAdCreative.JWT_PRIVATE_KEY,
    }
    for seen in fake.seen[1:]:
        assert seen.headers["authorization"] == f"Bearer {fake.current}"
        assert seen.headers["x-api-key"] == FakeAdCreative.API_KEY
        assert seen.headers["x-api-secret"] == FakeAdCreative.API_SECRET
        assert seen.headers["accept"] == "application/json"
    assert start.fields["applicationId"].decode() == FakeAdCreative.APPLICATION_ID
    assert start.fields["userId"].decode() == FakeAdCreative.USER_ID
    uploaded = Image.open(io.BytesIO(start.fields["uploadedImage"]))
    assert (uploaded.format, uploaded.size) == ("JPEG", (300, 450))
    assert np.abs(np.asarray(uploaded.convert("RGB"))[50, 150].astype(int) - RED).max() < 20
    process = order.provider_ref
    job = fake.jobs[process]
    assert order.provider_state["tasks"] == [job["task"]]
    assert query(progress) == {
        "userId": FakeAdCreative.USER_ID,
        "imageBackgroundRemoverProcessId": process,
    }
    assert query(download) == {
        "applicationId": FakeAdCreative.APPLICATION_ID,
        "taskId": job["task"],
        "imageBackgroundRemoverProcessId": process,
        "lowResolution": "false",
    }

    result = order.results.get()
    assert result.full.name.endswith(".png")
    image = Image.open(result.full.open("rb"))
    assert (image.mode, image.size) == ("RGBA", (300, 450))
    pixels = np.asarray(image).astype(int)
    assert pixels[:, :100, 3].max() == 0  # the left third: background removed
    assert pixels[:, 100:, 3].min() == 255
    assert np.abs(pixels[50, 200, :3] - RED).max() < 20
    assert np.abs(pixels[400, 200, :3] - BLUE).max() < 20
    agent.refresh_from_db()
    assert agent.credits == credits - get_service("background_removal").credits


@pytest.mark.parametrize("digits", [2, 7])  # "…:50.97Z" as in the doc, and .NET's 7
def test_the_token_is_cached_across_orders(fake, agent, photo, digits):
    fake.expiration_digits = digits
    first = run_to_the_end(place(agent, photo))
    second = run_to_the_end(place(agent, photo))

    assert first.status == second.status == "succeeded"
    assert calls(fake).count(f"POST {TOKEN_PATH}") == 1
    assert len(tokens_used(fake)) == 10 and set(tokens_used(fake)) == {f"Bearer {fake.current}"}


def test_a_token_about_to_expire_is_renewed_before_it_does(fake, agent, photo):
    fake.token_seconds = 3.0  # kept for half its life: int(1.5) = 1 s
    run_order_task.call(order_id=place(agent, photo).pk)
    old = fake.current
    time.sleep(1.2)
    run_order_task.call(order_id=place(agent, photo).pk)

    assert calls(fake) == [f"POST {TOKEN_PATH}", f"POST {START}"] * 2
    assert fake.current != old
    assert fake.tokens[old] > time.time()  # the old one still worked: renewed ahead of time
    assert tokens_used(fake) == [f"Bearer {old}", f"Bearer {fake.current}"]


def test_a_revoked_token_is_renewed_and_the_call_retried_once(fake, agent, photo):
    order = place(agent, photo)
    run_order_task.call(order_id=order.pk)
    old = fake.current
    fake.revoke()
    poll_order_task.call(order_id=order.pk)

    assert calls(fake)[2:] == [f"GET {PROGRESS}", f"POST {TOKEN_PATH}", f"GET {PROGRESS}"]
    assert tokens_used(fake)[1:] == [f"Bearer {old}", f"Bearer {fake.current}"]
    assert run_to_the_end(order).status == "succeeded"


def test_a_revoked_token_is_renewed_for_the_download_too(fake, agent, photo):
    fake.revoke_before = DOWNLOAD
    order = run_to_the_end(place(agent, photo))

    assert order.status == "succeeded"
    assert calls(fake)[-4:] == [
        f"GET {PROGRESS}", f"GET {DOWNLOAD}", f"POST {TOKEN_PATH}", f"GET {DOWNLOAD}",
    ]  # fmt: skip
    assert tokens_used(fake)[-2] != tokens_used(fake)[-1] == f"Bearer {fake.current}"


def test_a_lasting_401_fails_the_order_after_one_retry(fake, agent, photo, settings):
    settings.ADCREATIVE_API_SECRET = "wrong-secret"
    credits = agent.credits
    order = run_to_the_end(place(agent, photo))

    assert order.status == "failed" and "HTTP 401" in order.error_detail
    assert "wrong-secret" not in order.error_detail
    assert calls(fake) == [f"POST {TOKEN_PATH}", f"POST {START}"] * 2
    agent.refresh_from_db()
    assert agent.credits == credits


def test_a_failed_job_fails_the_order_with_a_refund(fake, agent, photo):
    fake.fail_jobs = True
    credits = agent.credits
    order = run_to_the_end(place(agent, photo))

    assert order.status == "failed"
    assert order.message == "AdCreative could not remove the background."
    assert "An error occurred while removing the background." in order.error_detail
    assert f"GET {DOWNLOAD}" not in calls(fake)
    agent.refresh_from_db()
    assert agent.credits == credits


def test_busy_answers_on_start_are_retried(fake, agent, photo):
    fake.fail[START] = [429, 503]
    order = run_to_the_end(place(agent, photo))

    assert order.status == "succeeded"
    assert calls(fake)[:4] == [f"POST {TOKEN_PATH}"] + [f"POST {START}"] * 3
    assert len(fake.jobs) == 1


def test_a_job_not_listed_yet_is_waited_for(fake, agent, photo):
    fake.unlisted_polls = 1  # the first CheckUserProgress answers 404
    order = place(agent, photo)
    run_order_task.call(order_id=order.pk)
    poll_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "processing" and order.provider_state["render_state"] is None
    assert run_to_the_end(order).status == "succeeded"


def test_the_notification_makes_us_poll_now(
    fake, agent, photo, client, django_capture_on_commit_callbacks
):
    order = place(agent, photo)
    run_order_task.call(order_id=order.pk)
    process = Order.objects.get(pk=order.pk).provider_ref
    fake.forget(process)  # finished, and gone from CheckUserProgress: the 404 case
    poll_order_task.call(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "processing"  # polling alone cannot tell
    queue_clear()
    path = reverse("orders:webhook", args=["adcreative", webhook_secret("adcreative")])

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(path, json.dumps(fake.notification(process)), "application/json")

    assert answer.status_code == 200
    polls = queued("orders.tasks.poll_order_task")
    assert len(polls) == 1
    poll_order_task.call(order_id=order.pk)
    order = Order.objects.get(pk=order.pk)
    assert order.status == "succeeded"
    assert calls(fake)[-2:] == [f"GET {PROGRESS}", f"GET {DOWNLOAD}"]  # not the inline bytes
    assert np.asarray(Image.open(order.results.get().full.open("rb")))[:, :100, 3].max() == 0

    unknown = {**fake.notification(process), "ImageRenderProcessId": "0" * 32}
    assert client.post(path, json.dumps(unknown), "application/json").status_code == 404


def test_a_notification_over_http_reaches_the_order(fake, agent, photo, settings, live_server):
    settings.PUBLIC_BASE_URL = live_server.url
    order = place(agent, photo)
    run_order_task.call(order_id=order.pk)
    process = Order.objects.get(pk=order.pk).provider_ref
    fake.forget(process)

    assert fake.notify(webhook_url("adcreative"), process).status_code == 200
    poll_order_task.call(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "succeeded"


@pytest.mark.parametrize(
    ("error", "detail"),
    [("Background removing failed.", "Background removing failed."), ("", "isSuccessful")],
)
def test_a_failure_notification_fails_a_job_gone_from_the_list(
    fake, agent, photo, client, django_capture_on_commit_callbacks, error, detail
):
    credits = agent.credits
    order = place(agent, photo)
    run_order_task.call(order_id=order.pk)
    process = Order.objects.get(pk=order.pk).provider_ref
    fake.forget(process)
    path = reverse("orders:webhook", args=["adcreative", webhook_secret("adcreative")])
    pascal = {**fake.notification(process, successful=False), "ErrorMessage": error}
    camel = {key[0].lower() + key[1:]: value for key, value in pascal.items()}  # taken too
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(path, json.dumps(camel), "application/json")
    assert answer.status_code == 200

    poll_order_task.call(order_id=order.pk)
    order = Order.objects.get(pk=order.pk)
    assert order.status == "failed" and detail in order.error_detail
    assert f"GET {DOWNLOAD}" not in calls(fake)
    agent.refresh_from_db()
    assert agent.credits == credits


def test_availability_says_what_is_missing(settings):
    service = get_service("background_removal")
    settings.ORDER_PROVIDERS = {"background_removal": ["adcreative"]}
    names = ["APPLICATION_ID", "JWT_PRIVATE_KEY", "API_KEY", "API_SECRET", "USER_ID"]
    for name in names:
        setattr(settings, f"ADCREATIVE_{name}", "set")
    assert availability(service).available
    for name in names:
        setattr(settings, f"ADCREATIVE_{name}", "")
        assert availability(service).reason == "Not available here: needs an AdCreative API key."
        setattr(settings, f"ADCREATIVE_{name}", "set")


def test_other_services_are_refused(fake, agent, photo, settings):
    settings.ORDER_PROVIDERS = {"upscale": ["adcreative"]}
    with pytest.raises(OrderRefused, match="AdCreative has no upscale here"):
        order_place(user=agent, photo=photo, service="upscale", options={"scale": "2"})


@pytest.mark.parametrize(
    ("reply", "found"),
    [
        (
            {"$id": "1", "$values": [{"imageRenderProcessId": "a"}, {"imageRenderProcessId": "B"}]},
            True,
        ),
        ([{"imageRenderProcessId": "b"}], True),
        ({"imageRenderProcessId": "b", "requestRenderState": 5}, True),
        ({"$id": "1", "$values": [{"imageRenderProcessId": "a"}]}, False),
        (None, False),
    ],
)
def test_progress_answers_of_every_shape_are_read(reply, found):
    assert (find_progress(reply, "b") is not None) is found


def test_token_expirations_are_read_in_every_format():
    soon = datetime.now(UTC) + timedelta(hours=1)
    for text in (
        f"{soon:%Y-%m-%dT%H:%M:%S}.97Z",
        f"{soon:%Y-%m-%dT%H:%M:%S}.9712345Z",
        f"{soon:%Y-%m-%dT%H:%M:%S}Z",
        f"{soon:%Y-%m-%dT%H:%M:%S}.97",  # no zone: UTC
        f"{soon:%Y-%m-%dT%H:%M:%S}.9712345+00:00",
    ):
        assert 3590 < seconds_left(text) <= 3601, text
    assert seconds_left("tomorrow") == seconds_left(None) == 0
    assert seconds_left("2020-01-01T00:00:00Z") == 0
