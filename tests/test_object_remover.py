"""The object-remover client against a fake server that takes only documented requests."""

import io

import numpy as np
import pytest
from PIL import Image

from maskeditor.services import mask_save
from orders.catalog import get_service
from orders.models import Order
from orders.providers import availability
from orders.services import order_place
from orders.tasks import run_order_task

from .factories import make_photo
from .fakes import FakeObjectRemover
from .images import jpeg_bytes, two_band_image


@pytest.fixture
def fake(settings):
    server = FakeObjectRemover(token="s3cret")
    settings.OBJECT_REMOVER_BASE_URL = server.url
    settings.OBJECT_REMOVER_TOKEN = "s3cret"
    settings.PROVIDER_BACKOFF_SECONDS = 0.01
    settings.ORDER_PROVIDERS = {"item_removal_mask": ["object_remover"]}
    yield server
    server.close()


@pytest.fixture
def order(project, agent):
    # Stored sideways (EXIF 6): the server must get the upright photo the mask was painted on.
    photo = make_photo(
        project,
        data=jpeg_bytes(image=two_band_image((300, 450)).rotate(90, expand=True), orientation=6),
    )
    painted = np.zeros((450, 300), bool)
    painted[100:200, 50:150] = True
    mask = mask_save(photo=photo, painted=painted)
    return order_place(user=agent, photo=photo, service="item_removal_mask", options={}, mask=mask)


def paths(fake) -> list[str]:
    return [f"{s.method} {s.path.split('output_')[0]}" for s in fake.seen]


def test_an_order_goes_through_the_documented_flow(fake, order):
    run_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "succeeded" and order.provider == "object_remover"
    assert paths(fake) == [
        "POST /upload-image",
        "POST /upload-mask",
        "POST /inpaint",
        "GET /download/",
    ]
    assert all(s.headers["Authorization"] == "Bearer s3cret" for s in fake.seen[:3])
    sent = Image.open(io.BytesIO(fake.seen[0].fields["image"]))
    assert (sent.format, sent.size) == ("PNG", (300, 450))  # upright, not the sideways original
    mask = np.asarray(Image.open(io.BytesIO(fake.seen[1].fields["mask"])))
    expected = np.zeros((450, 300), bool)
    expected[100:200, 50:150] = True
    assert np.array_equal(mask > 0, expected)  # grey > 0 marks what to remove
    result = np.asarray(Image.open(order.results.get().full.open("rb")))
    assert np.abs(result[150, 100].astype(int) - 128).max() < 6  # the fake's fill came back
    assert order.provider_ref.startswith("output_")


def test_a_restarted_server_gets_the_files_again_once(fake, order):
    fake.forget_once = True

    run_order_task.call(order_id=order.pk)

    assert Order.objects.get(pk=order.pk).status == "succeeded"
    assert paths(fake).count("POST /upload-image") == 2


def test_busy_answers_are_retried(fake, order):
    fake.fail["/upload-image"] = [503, 429]

    run_order_task.call(order_id=order.pk)

    assert Order.objects.get(pk=order.pk).status == "succeeded"
    assert paths(fake).count("POST /upload-image") == 3


def test_a_wrong_token_fails_for_good_with_a_refund(fake, order, settings, agent):
    settings.OBJECT_REMOVER_TOKEN = "wrong"
    before = Order.objects.get(pk=order.pk).owner.credits

    run_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "failed" and order.message == "object-remover refused the request."
    assert "HTTP 401" in order.error_detail and "wrong" not in order.error_detail
    assert order.owner.credits == before + get_service("item_removal_mask").credits
    assert paths(fake) == ["POST /upload-image"]  # no retry of a permanent error


def test_a_provider_that_stays_down_falls_through_to_the_next(fake, order, settings):
    settings.ORDER_PROVIDERS = {"item_removal_mask": ["object_remover", "local"]}
    fake.fail["/upload-image"] = [503] * 10

    run_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    assert (order.status, order.provider) == ("succeeded", "local")


def test_a_result_that_is_not_an_image_is_refused(fake, order):
    fake.broken_result = True

    run_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "failed" and "not an image" in order.message


def test_availability_follows_the_setting(settings):
    service = get_service("item_removal_mask")
    settings.ORDER_PROVIDERS = {"item_removal_mask": ["object_remover"]}
    settings.OBJECT_REMOVER_BASE_URL = ""
    assert availability(service).reason == "Not available here: needs an object-remover server."
    settings.OBJECT_REMOVER_BASE_URL = "http://127.0.0.1:1"
    assert availability(service).available
