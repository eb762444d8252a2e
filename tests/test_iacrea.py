"""The IACrea client against a fake IACrea that fetches our signed URLs for real."""

import io
import json
import time

import httpx
import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from maskeditor.services import mask_save
from orders.catalog import get_service
from orders.models import Order, ProviderAccount
from orders.providers import availability
from orders.providers.handover import webhook_secret, webhook_url
from orders.providers.iacrea import read_generation
from orders.services import OrderRefused, order_place
from orders.tasks import poll_order_task, run_order_task

from .factories import make_photo, run_to_the_end
from .fakes import FakeIacrea
from .images import jpeg_bytes
from .queue import queue_clear, queued


@pytest.fixture
def fake(settings, live_server):
    server = FakeIacrea()
    settings.IACREA_API_KEY = "ia-key"
    settings.IACREA_USER_ID = FakeIacrea.USER_ID
    settings.IACREA_BASE_URL = server.url + "/api"
    settings.EGRESS_TRUSTED_ORIGINS = [server.cdn]  # its "CDN", on loopback like all fakes
    settings.PUBLIC_BASE_URL = live_server.url
    settings.PROVIDER_BACKOFF_SECONDS = 0.01
    settings.ORDER_PROVIDERS = {name: ["iacrea"] for name in ("declutter", "item_removal")}
    yield server
    server.close()
    assert not server.errors, server.errors


@pytest.fixture
def photo(sideways_photo):
    return sideways_photo


def painted(photo, box=(100, 200, 50, 150)):
    top, bottom, left, right = box
    area = np.zeros((photo.height, photo.width), bool)
    area[top:bottom, left:right] = True
    return mask_save(photo=photo, painted=area)


def place(agent, photo, service, mask=None, parent=None, **options):
    info = get_service(service)
    options = {**info.default_options(), **options}
    return order_place(
        user=agent, photo=photo, service=service, options=options, mask=mask, parent=parent
    )


def calls(fake):
    return [s.path for s in fake.seen if s.method == "POST"]


def result_pixels(order) -> np.ndarray:
    return np.asarray(Image.open(order.results.get().full.open("rb")).convert("RGB")).astype(int)


def test_automatic_declutter_goes_through_the_documented_calls(fake, agent, photo, client):
    order = run_to_the_end(place(agent, photo, "declutter", auto=True))

    assert (order.status, order.provider) == ("succeeded", "iacrea")
    assert calls(fake) == ["/api/declutter_total/generate"] + ["/api/declutter_total/get"] * 3
    generate = fake.seen[0]
    assert generate.headers["x-api-key"] == "ia-key"
    assert set(generate.json) == {"user_id", "image_url", "auto", "webhook"}
    assert generate.json["auto"] is True and generate.json["user_id"] == FakeIacrea.USER_ID
    assert generate.json["webhook"].startswith(webhook_url("iacrea"))  # + the job's reference
    assert generate.json["image_url"].startswith(fake_public(generate.json["image_url"]))
    assert order.provider_ref == generate.json.get("generation_id", order.provider_ref)
    assert fake.generations[order.provider_ref]  # the order records IACrea's generation id
    pixels = result_pixels(order)
    assert pixels.shape == (450, 300, 3)
    assert np.abs(pixels[225, 150] - 128).max() < 8  # the fake's grey fill in the middle
    assert order.provider_state["variations"] == 1
    assert ProviderAccount.objects.get(provider="iacrea").remaining_photos == 41
    # The photo was handed over only for the job: the signed URL is dead afterwards.
    assert httpx.get(generate.json["image_url"]).status_code == 404


def fake_public(url: str) -> str:
    return url.split("/handover/")[0] + "/handover/"


def test_painted_declutter_goes_to_the_local_engine_not_iacrea(fake, agent, photo, settings):
    """IACrea's generate documents no mask field: a first painted decluttering is done by
    the next provider that can, or refused before charging if there is none."""
    settings.ORDER_PROVIDERS = {"declutter": ["iacrea"]}
    credits = agent.credits
    with pytest.raises(OrderRefused, match="IACrea takes a painted mask for decluttering only"):
        place(agent, photo, "declutter", mask=painted(photo), auto=False)
    agent.refresh_from_db()
    assert agent.credits == credits

    settings.ORDER_PROVIDERS = {"declutter": ["iacrea", "local"]}
    order = run_to_the_end(place(agent, photo, "declutter", mask=painted(photo), auto=False))

    assert (order.status, order.provider) == ("succeeded", "local")
    assert fake.seen == []


def test_painting_and_automatic_detection_together_are_refused(fake, agent, photo):
    with pytest.raises(OrderRefused, match="Either paint the area or choose"):
        place(agent, photo, "declutter", mask=painted(photo), auto=True)


def test_a_variation_of_iacreas_declutter_sends_a_new_mask_white_on_black(fake, agent, photo):
    first = run_to_the_end(place(agent, photo, "declutter", auto=True))
    assert (first.status, first.provider) == ("succeeded", "iacrea")
    fake.seen.clear()

    order = run_to_the_end(
        place(agent, photo, "declutter", mask=painted(photo), parent=first, auto=False)
    )

    assert (order.status, order.provider) == ("succeeded", "iacrea")
    variation = fake.seen[0]
    assert variation.path == "/api/declutter_total/generate-variation"
    assert variation.json["generation_id"] == first.provider_ref
    assert variation.json["mask_url"].endswith("/mask.png")
    pixels = result_pixels(order)
    assert np.abs(pixels[150, 100] - 128).max() < 8  # inside the painted box
    assert np.abs(pixels[400, 250] - 128).max() > 40  # outside: the photo as it was


def test_automatic_item_removal_uses_declutter_total(fake, agent, photo):
    order = run_to_the_end(place(agent, photo, "item_removal"))

    assert order.status == "succeeded"
    assert fake.seen[0].json["auto"] is True


def test_exterior_creation_and_its_variation(fake, agent, photo, settings):
    settings.ORDER_PROVIDERS = {}
    first = run_to_the_end(
        place(agent, photo, "exterior_creation", mask=painted(photo), exterior_type="POOL")
    )

    assert first.status == "succeeded"
    generate = fake.seen[0].json
    assert set(generate) == {
        "user_id", "image_url", "mask_url", "room_type", "width", "height", "webhook",
    }  # fmt: skip
    assert (generate["room_type"], generate["width"], generate["height"]) == ("POOL", 300, 450)
    assert tuple(result_pixels(first)[150, 100]) == pytest.approx((40, 110, 200), abs=8)

    fake.seen.clear()
    second = run_to_the_end(
        place(
            agent,
            photo,
            "exterior_creation",
            mask=painted(photo, (300, 400, 100, 250)),
            parent=first,
            exterior_type="PETANQUE",
        )
    )

    assert second.status == "succeeded"
    assert calls(fake)[0] == "/api/create_exterior/generate-variation"
    variation = fake.seen[0].json
    assert variation["generation_id"] == first.provider_ref
    assert variation["room_type"] == "PETANQUE" and variation["original_url"].endswith("photo.jpg")
    pixels = result_pixels(second)
    assert tuple(pixels[350, 150]) == pytest.approx((215, 190, 140), abs=8)  # the new area


def test_a_failed_generation_fails_the_order_with_a_refund(fake, agent, photo):
    fake.fail_generations = True
    credits = agent.credits
    order = run_to_the_end(place(agent, photo, "declutter", auto=True))

    assert order.status == "failed" and order.message == "IACrea could not make this edit."
    agent.refresh_from_db()
    assert agent.credits == credits


def test_a_wrong_key_fails_without_retrying(fake, agent, photo, settings):
    settings.IACREA_API_KEY = "wrong"
    order = run_to_the_end(place(agent, photo, "declutter", auto=True))

    assert order.status == "failed" and "HTTP 401" in order.error_detail
    assert "wrong" not in order.error_detail
    assert calls(fake) == ["/api/declutter_total/generate"]


def test_bearer_auth_is_a_setting(settings, agent, photo, live_server):
    fake = FakeIacrea(bearer=True)
    settings.IACREA_API_KEY, settings.IACREA_AUTH = "ia-key", "bearer"
    settings.IACREA_USER_ID = FakeIacrea.USER_ID
    settings.IACREA_BASE_URL = fake.url + "/api"
    settings.EGRESS_TRUSTED_ORIGINS = [fake.cdn]
    settings.PUBLIC_BASE_URL = live_server.url
    try:
        order = run_to_the_end(place(agent, photo, "declutter", auto=True))
    finally:
        fake.close()
    assert order.status == "succeeded"
    assert fake.seen[0].headers["Authorization"] == "Bearer ia-key"


def test_the_webhook_brings_the_result_without_waiting_for_a_poll(fake, agent, photo):
    order = place(agent, photo, "declutter", auto=True)
    run_order_task.call(order_id=order.pk)
    queue_clear()

    ref = Order.objects.get(pk=order.pk).provider_ref
    answer = fake.call_webhook(ref)

    assert answer.status_code == 200
    polls = queued("orders.tasks.poll_order_task")
    assert len(polls) == 1  # the webhook queued a look at the order, due now
    poll_order_task.call(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "succeeded"
    again = fake.call_webhook(ref)  # IACrea may call twice
    assert again.status_code == 200
    assert Order.objects.get(pk=order.pk).results.count() == 1


def test_forged_and_unknown_webhooks_are_turned_away(fake, agent, photo, client):
    order = place(agent, photo, "declutter", auto=True)
    run_order_task.call(order_id=order.pk)
    path = reverse("orders:webhook", args=["iacrea", webhook_secret("iacrea")])
    body = json.dumps({"generation_id": Order.objects.get(pk=order.pk).provider_ref})

    forged = path.replace(webhook_secret("iacrea"), "0" * 32)
    assert client.post(forged, body, content_type="application/json").status_code == 404
    unknown = json.dumps({"generation_id": "not-ours", "status": "SUCCEEDED"})
    assert client.post(path, unknown, content_type="application/json").status_code == 404
    assert client.post(path, "{not json", content_type="application/json").status_code == 400
    assert client.get(path).status_code == 405
    assert client.post(path, body, content_type="application/json").status_code == 200


def test_the_documented_webhook_body_is_matched_by_its_job_address(fake, agent, photo, client):
    """IACrea's webhook body is its retrieval answer, which names no generation: each job
    gets its own address, a signed reference to the order."""
    order = place(agent, photo, "declutter", auto=True)
    run_order_task.call(order_id=order.pk)
    hook = fake.seen[0].json["webhook"]
    path = hook.split("://", 1)[1].split("/", 1)[1]
    documented = json.dumps({"status": "SUCCEEDED", "images": ["https://x/1.jpg"], "n": 1})
    queue_clear()

    assert client.post("/" + path, documented, content_type="application/json").status_code == 200
    assert len(queued("orders.tasks.poll_order_task")) == 1
    job = path.rstrip("/").rsplit("/", 1)[1]
    forged = "/" + path.replace(job, job[:-3] + "abc")
    assert client.post(forged, documented, content_type="application/json").status_code == 404
    general = reverse("orders:webhook", args=["iacrea", webhook_secret("iacrea")])
    assert client.post(general, documented, content_type="application/json").status_code == 404
    other = "/" + path.replace("/iacrea/", "/aihomedesign/")
    assert client.post(other, documented, content_type="application/json").status_code == 404


def test_handover_urls_are_signed_and_expire(fake, agent, photo, settings):
    order = place(agent, photo, "declutter", auto=True)
    run_order_task.call(order_id=order.pk)
    image_url = fake.seen[0].json["image_url"]

    assert httpx.get(image_url, follow_redirects=True).status_code == 200
    token = image_url.split("/handover/")[1].split("/")[0]
    assert httpx.get(image_url.replace(token, token[:-2] + "xx")).status_code == 404
    assert httpx.get(image_url.replace("photo.jpg", "mask.png")).status_code == 404
    settings.HANDOVER_URL_SECONDS = -1
    assert httpx.get(image_url).status_code == 404


def test_availability_says_what_is_missing(settings):
    service = get_service("exterior_creation")
    settings.IACREA_API_KEY = ""
    assert availability(service).reason == "Not available here: needs an IACrea API key."
    settings.IACREA_API_KEY, settings.IACREA_USER_ID = "key", "user"
    settings.PUBLIC_BASE_URL = ""
    assert "needs PUBLIC_BASE_URL" in availability(service).reason
    settings.PUBLIC_BASE_URL = "https://homedesign.example"
    assert availability(service).available


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"status": "PROCESSING"}, ("PROCESSING", [], None)),
        (
            {"status": "SUCCEEDED", "images": ["https://cdn/a.jpg"], "nb_variations": 2},
            ("SUCCEEDED", ["https://cdn/a.jpg"], 2),
        ),
        (
            {"data": {"generation_status": "succeeded", "urls": ["https://cdn/b.png"]}},
            ("SUCCEEDED", ["https://cdn/b.png"], None),
        ),
        ({"state": "FAILED", "images": []}, ("FAILED", [], None)),
    ],
)
def test_retrieval_answers_are_read_by_what_they_hold(answer, expected):
    assert read_generation(answer) == expected


def test_a_slow_answer_to_a_retrieval_is_asked_again(fake, agent, photo, settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5
    fake.slow["/api/declutter_total/get"] = [1.5]

    order = run_to_the_end(place(agent, photo, "declutter", auto=True))

    assert order.status == "succeeded"
    assert fake.slowed == ["/api/declutter_total/get"]  # its answer came too late, was asked again


def test_a_job_request_that_timed_out_is_not_sent_twice(fake, agent, photo, settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5
    settings.ORDER_PROVIDERS = {"declutter": ["iacrea", "local"]}
    fake.slow["/api/declutter_total/generate"] = [1.5]
    credits = agent.credits

    order = run_to_the_end(place(agent, photo, "declutter", auto=True))

    # IACrea may have started the job: sending it again, or to the next provider, could
    # run (and bill) it twice. The agent gets the credits back instead.
    assert (order.status, order.provider) == ("failed", "iacrea")
    assert order.message == "IACrea did not answer in time."
    agent.refresh_from_db()
    assert agent.credits == credits
    # Until the slow request has been handled (a condition, not a fixed wait: a busy
    # machine takes longer).
    deadline = time.monotonic() + 30
    while not fake.errors and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls(fake) == ["/api/declutter_total/generate"]
    # And the late job finds no photo: the files were withdrawn when the order ended.
    assert [error.split(": ")[0] for error in fake.errors] == [
        "POST /api/declutter_total/generate"
    ] and "404" in fake.errors[0]
    fake.errors.clear()


def test_the_handed_over_photo_carries_no_address_or_position(fake, agent, project):
    photo = make_photo(project, data=jpeg_bytes(gps=True, comment=b"12 Rue des Lilas, Lyon"))
    order = place(agent, photo, "declutter", auto=True)
    run_order_task.call(order_id=order.pk)

    handed = httpx.get(fake.seen[0].json["image_url"], follow_redirects=True)

    image = Image.open(io.BytesIO(handed.content))
    assert image.format == "JPEG" and image.size == (600, 400)
    assert "comment" not in image.info and "exif" not in image.info
    assert b"Lilas" not in handed.content


def test_a_result_download_that_times_out_is_tried_again_later(fake, agent, photo, settings):
    fake.polls_until_done = 0
    order = place(agent, photo, "declutter", auto=True)
    run_order_task.call(order_id=order.pk)
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5  # for the download of the result
    generation = Order.objects.get(pk=order.pk).provider_ref
    fake.slow[f"/cdn/{generation}/1.jpg"] = [1.5]

    poll_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "processing"  # IACrea finished; only our download failed
    poll_order_task.call(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "succeeded"


def test_an_oversized_webhook_is_refused_unread(client, monkeypatch):
    monkeypatch.setattr("orders.webhooks.WEBHOOK_MAX_BYTES", 1000)
    path = reverse("orders:webhook", args=["iacrea", webhook_secret("iacrea")])
    big = json.dumps({"generation_id": "x", "padding": "a" * 2000})

    assert client.post(path, big, content_type="application/json").status_code == 413
