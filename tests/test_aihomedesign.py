"""The AI HomeDesign v1 client against a fake that takes only documented requests."""

import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from maskeditor.services import mask_save
from orders.catalog import get_service
from orders.models import CatalogEntry, Order, ProviderAccount
from orders.providers import availability
from orders.providers.handover import webhook_secret, webhook_url
from orders.services import OrderRefused, order_place
from orders.tasks import poll_order_task, run_order_task

from .factories import run_to_the_end
from .fakes import FakeAiHomeDesign
from .queue import queue_clear, queued

SERVICES = ["virtual_staging", "interior_design", "image_enhancement", "day_to_dusk",
            "item_removal", "item_removal_mask"]  # fmt: skip


@pytest.fixture
def fake(settings):
    server = FakeAiHomeDesign()
    settings.AIHOMEDESIGN_API_KEY = "aihd-key"
    settings.AIHOMEDESIGN_BASE_URL = server.url + "/v1"
    settings.EGRESS_TRUSTED_ORIGINS = [server.cdn]  # its "CDN", on loopback like all fakes
    settings.PUBLIC_BASE_URL = ""
    settings.PROVIDER_BACKOFF_SECONDS = 0.01
    settings.ORDER_PROVIDERS = {name: ["aihomedesign"] for name in SERVICES}
    yield server
    server.close()
    assert not server.errors, server.errors


@pytest.fixture
def with_webhooks(fake, settings, live_server):
    """The dashboard's webhook URL points at this app."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.AIHOMEDESIGN_UPSCALE = True
    fake.webhook_url = webhook_url("aihomedesign")
    return fake


@pytest.fixture
def photo(sideways_photo):
    return sideways_photo


def place(agent, photo, service, mask=None, **options):
    options = {**get_service(service).default_options(), **options}
    return order_place(user=agent, photo=photo, service=service, options=options, mask=mask)


def requests(fake):
    return [f"{s.method} {s.path.split('?')[0]}" for s in fake.seen if "/cdn/" not in s.path]


def item_id(fake, service_name, title):
    widgets = fake.catalog[service_name][1]
    return next(i["id"] for w in widgets for i in w["items"] if i["title"] == title)


def test_virtual_staging_end_to_end(fake, agent, photo):
    order = run_to_the_end(place(agent, photo, "virtual_staging", room_type="bedroom",
                                 style="scandinavian"))  # fmt: skip

    assert (order.status, order.provider) == ("succeeded", "aihomedesign")
    upload = fake.seen[[s.path for s in fake.seen].index("/v1/order/image")]
    assert upload.fields["service_name"] == b"service-ai-virtual-staging"
    assert Image.open(io.BytesIO(upload.fields["image"])).size == (300, 450)  # upright
    submit = next(s for s in fake.seen if s.path == "/v1/order")
    assert submit.json == {
        "order_id": order.provider_ref,
        "space_name": "space-bedroom",
        "selected_widgets": [
            {
                "id": "w-style",
                "item_id": item_id(fake, "service-ai-virtual-staging", "Scandinavian"),
            }
        ],
    }
    assert all(s.headers["x-api-key"] == "aihd-key" for s in fake.seen if "/cdn/" not in s.path)
    assert requests(fake)[-2:] == [f"GET /v1/order/{order.provider_ref}"] * 2
    result = order.results.get()
    assert (result.width, result.height) == (300, 450)
    assert CatalogEntry.objects.filter(service_name="service-ai-virtual-staging").exists()


@pytest.mark.parametrize(
    ("service", "options", "expected"),
    [
        ("interior_design", {"room_type": "kitchen", "colour": "pastels"},
         {"space_name": "space-kitchen--", "widgets": {"w-style": "Modern", "w-colour": "Pastel"}}),
        ("interior_design", {"room_type": "kids_room", "colour": "any"},
         {"space_name": "space-kids-room-1", "widgets": {"w-style": "Modern"}}),
        ("image_enhancement", {"scene": "outdoor"},
         {"space_name": "space-outdoor", "widgets": {}}),
        ("day_to_dusk", {"sky_style": "golden_hour", "remove_shadows": False},
         {"remove_shadow": False, "widgets": {"w-sky": "Golden Hour Sky"}}),
        ("day_to_dusk", {"sky_style": "deep_twilight", "remove_shadows": True},
         {"remove_shadow": True, "widgets": {"w-sky": "Twilight Sky Without Cloud"}}),
        ("item_removal", {}, {}),
    ],
)  # fmt: skip
def test_each_service_sends_its_documented_body(fake, agent, photo, service, options, expected):
    order = run_to_the_end(place(agent, photo, service, **options))

    assert order.status == "succeeded", order.error_detail
    service_name = fake.orders[order.provider_ref]["service"]
    body = fake.orders[order.provider_ref]["request"]
    widgets = expected.pop("widgets", {})
    assert {c["id"]: c["item_id"] for c in body.get("selected_widgets", [])} == {
        widget: item_id(fake, service_name, title) for widget, title in widgets.items()
    }
    assert {k: v for k, v in body.items() if k not in ("order_id", "selected_widgets")} == expected


def test_painted_removal_follows_the_mask_steps(fake, agent, photo):
    area = np.zeros((450, 300), bool)
    area[100:200, 50:150] = True
    order = run_to_the_end(
        place(agent, photo, "item_removal_mask", mask=mask_save(photo=photo, painted=area))
    )

    assert order.status == "succeeded", order.error_detail
    ref = order.provider_ref
    assert requests(fake) == [
        "POST /v1/order/image",
        f"GET /v1/order/{ref}/last-temp-image",
        "POST /v1/order/manual-mask",
        "POST /v1/order",
        f"GET /v1/order/{ref}/last-temp-image",
        f"GET /v1/order/{ref}/last-temp-image",
        "POST /v1/order/done",
    ]
    assert fake.seen[0].fields["service_name"] == b"service-item-removal-mask"
    assert np.array_equal(fake.orders[ref]["mask"], area)  # #7878CD exactly where painted
    assert fake.orders[ref]["done"]
    pixels = np.asarray(Image.open(order.results.get().full.open("rb"))).astype(int)
    assert np.abs(pixels[150, 100] - 128).max() < 8


def test_results_come_through_the_upscale_webhook(with_webhooks, agent, photo):
    fake = with_webhooks
    order = run_to_the_end(place(agent, photo, "day_to_dusk"), limit=50)

    assert order.status == "succeeded", order.error_detail
    assert any(p.endswith("/download/upscale") for p in requests(fake))
    assert fake.webhook_answers == [200]
    result = order.results.get()
    assert (result.width, result.height) == (600, 900)  # the upscaled image, not the regular


def test_generated_image_webhook_in_both_shapes(with_webhooks, agent, photo):
    fake = with_webhooks
    order = place(agent, photo, "item_removal")
    run_order_task.call(order_id=order.pk)
    ref = Order.objects.get(pk=order.pk).provider_ref
    queue_clear()

    assert fake.send_generated_webhook(ref).status_code == 200
    assert fake.send_generated_webhook(ref, legacy=True).status_code == 200
    polls = queued("orders.tasks.poll_order_task")
    assert len(polls) == 2  # each queued a look at the order; a duplicate is harmless


def test_unknown_and_forged_webhooks_get_404(fake, agent, photo, client):
    path = reverse("orders:webhook", args=["aihomedesign", webhook_secret("aihomedesign")])
    unknown = {"order_id": "not-ours", "image": {"id": "x"}}
    upscale = {"generated_image_id": "nope", "upscaled_image_src": "https://x/y.jpg"}
    for payload in (unknown, upscale, {"something": "else"}):
        answer = client.post(path, json.dumps(payload), content_type="application/json")
        assert answer.status_code == 404
    forged = path.replace(webhook_secret("aihomedesign"), webhook_secret("iacrea"))
    assert client.post(forged, "{}", content_type="application/json").status_code == 404


def test_a_style_they_do_not_have_is_refused_before_charging(fake, agent, photo):
    call_command("aihomedesign_catalog")
    credits = agent.credits

    with pytest.raises(OrderRefused, match="AI HomeDesign has no Luxury style"):
        place(agent, photo, "virtual_staging", style="luxury")
    agent.refresh_from_db()
    assert agent.credits == credits


def test_the_catalog_command_stores_and_maps_their_ids(fake, admin_client):
    call_command("aihomedesign_catalog")

    spaces = CatalogEntry.objects.filter(kind="space", service_name="service-creative-designer")
    assert spaces.count() == len(FakeAiHomeDesign.ROOMS)
    page = admin_client.get("/admin/orders/catalogentry/?service_name=service-day-to-dusk")
    assert page.status_code == 200
    assert b"Golden Hour Sky" in page.content and b"Golden hour" in page.content


def test_more_than_the_rate_limit_waits_in_the_queue(
    fake, agent, photo, settings, client, django_capture_on_commit_callbacks
):
    settings.AIHOMEDESIGN_ORDERS_PER_WINDOW = 2
    orders = [place(agent, photo, "item_removal") for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for order in orders:
            run_order_task.call(order_id=order.pk)

    statuses = [Order.objects.get(pk=o.pk).status for o in orders]
    assert statuses == ["processing", "processing", "queued"]
    waiting = Order.objects.get(pk=orders[2].pk)
    assert "Waiting for a free slot at AI HomeDesign" in waiting.message
    assert waiting.credits_refunded == 0
    assert requests(fake).count("POST /v1/order/image") == 2
    later = queued("orders.tasks.run_order_task")[-1]
    assert later.run_after is not None and later.run_after > waiting.created_at
    client.force_login(agent)
    page = client.get(waiting.get_absolute_url()).content.decode()
    assert "Waiting to start" in page and "Waiting for a free slot at AI HomeDesign" in page


def test_their_429_also_waits_in_the_queue(fake, agent, photo):
    fake.limit = 0

    order = run_to_the_end(place(agent, photo, "item_removal"))

    assert order.status == "queued" and "rate limit" in order.message


def test_a_wrong_key_fails_for_good_without_showing_it(fake, agent, photo, settings):
    fake.catalog.clear()  # nothing the mask flow needs
    area = np.zeros((450, 300), bool)
    area[10:20, 10:20] = True
    order = place(agent, photo, "item_removal_mask", mask=mask_save(photo=photo, painted=area))
    settings.AIHOMEDESIGN_API_KEY = "wrong"

    order = run_to_the_end(order)

    assert order.status == "failed"
    assert "api_error_unauthorized" in order.error_detail and "wrong" not in order.error_detail


def test_availability_needs_the_key(settings):
    settings.ORDER_PROVIDERS = {"virtual_staging": ["aihomedesign"]}
    settings.AIHOMEDESIGN_API_KEY = ""
    reason = availability(get_service("virtual_staging")).reason
    assert reason == "Not available here: needs an AI HomeDesign API key."


def test_webhook_urls_are_printed_for_registration(settings, client):
    settings.PUBLIC_BASE_URL = "https://homedesign.example"
    out = io.StringIO()

    call_command("webhook_urls", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["AI HomeDesign", "IACrea", "AdCreative"]
    secret = webhook_secret("aihomedesign")
    assert lines[0] == f"AI HomeDesign: https://homedesign.example/hooks/aihomedesign/{secret}/"
    assert len(set(line.rsplit("/", 2)[-2] for line in lines)) == 3  # a secret per provider


def test_a_stranded_remote_job_is_polled_again_not_sent_twice(
    fake, agent, photo, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from orders.services import orders_reap_stranded

    order = place(agent, photo, "item_removal")
    run_order_task.call(order_id=order.pk)
    Order.objects.filter(pk=order.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    queue_clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert orders_reap_stranded() == 1

    order.refresh_from_db()
    assert order.status == "processing" and order.lease_expires_at > timezone.now()
    assert [t.task_path for t in queued()] == ["orders.tasks.poll_order_task"]
    poll_order_task.call(order_id=order.pk)
    poll_order_task.call(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "succeeded"
    assert requests(fake).count("POST /v1/order/image") == 1


def test_a_provider_down_while_polling_is_asked_again_later(fake, agent, photo):
    order = place(agent, photo, "item_removal")
    run_order_task.call(order_id=order.pk)
    ref = Order.objects.get(pk=order.pk).provider_ref
    fake.fail[f"/v1/order/{ref}"] = [503] * 4  # more than the client's retries

    poll_order_task.call(order_id=order.pk)

    assert Order.objects.get(pk=order.pk).status == "processing"
    poll_order_task.call(order_id=order.pk)
    poll_order_task.call(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "succeeded"


def test_a_job_that_never_finishes_is_failed_and_refunded(fake, agent, photo, settings):
    fake.polls_until_done = 1000
    credits = agent.credits
    order = place(agent, photo, "item_removal")
    run_order_task.call(order_id=order.pk)
    poll_order_task.call(order_id=order.pk)
    settings.REMOTE_MAX_WAIT_SECONDS = 0

    poll_order_task.call(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == "failed"
    assert order.message == "AI HomeDesign did not finish this edit in time; please try again."
    agent.refresh_from_db()
    assert agent.credits == credits


def test_an_error_with_a_number_key_reaches_the_agent_in_words(fake, agent, photo):
    fake.mask_refusal = ("mask covers the whole image", 4002)
    area = np.zeros((450, 300), bool)
    area[10:20, 10:20] = True
    order = place(agent, photo, "item_removal_mask", mask=mask_save(photo=photo, painted=area))

    order = run_to_the_end(order)

    assert order.status == "failed"
    assert order.message == "AI HomeDesign refused this edit: mask covers the whole image."
    assert "(key 4002)" in order.error_detail


def test_a_sooner_poll_supersedes_the_waiting_one(fake, agent, photo):
    from orders.tasks import order_poll_later

    order = place(agent, photo, "item_removal")
    run_order_task.call(order_id=order.pk)
    waiting = Order.objects.get(pk=order.pk).poll_token
    order_poll_later(order, seconds=0)  # what a webhook does
    fake.seen.clear()

    poll_order_task.call(order_id=order.pk, token=waiting)

    assert fake.seen == []  # superseded: it did not ask, nor schedule another
    poll_order_task.call(order_id=order.pk, token=waiting + 1)
    assert requests(fake) == [f"GET /v1/order/{Order.objects.get(pk=order.pk).provider_ref}"]


@pytest.mark.parametrize(
    "forged",
    [
        "http://127.0.0.2/cdn/x.jpg",  # another host
        "http://localhost:{other}/cdn/x.jpg",  # their storage's host, another port
        "https://localhost:{port}/cdn/x.jpg",  # another scheme
        "http://localhost:{port}/attacker-bucket/x.jpg",  # another bucket on the same host
        "http://127.0.0.1:{port}/cdn/x.jpg",  # their API's origin, not their storage's
        "not a link",
    ],
)
def test_an_upscale_link_elsewhere_than_their_storage_is_not_taken(
    with_webhooks, agent, photo, forged
):
    fake = with_webhooks
    order = place(agent, photo, "item_removal")
    run_order_task.call(order_id=order.pk)
    fake.webhook_url = ""  # their upscale webhook will not come on its own
    poll_order_task.call(order_id=order.pk)
    poll_order_task.call(order_id=order.pk)  # the images are there; the upscales are asked for
    order.refresh_from_db()
    assert order.provider_state["phase"] == "upscaling"
    image_id, source = next(iter(order.provider_state["sources"].items()))
    assert source.startswith(f"http://localhost:{fake.port}/cdn/")
    fake.webhook_url = webhook_url("aihomedesign")

    link = forged.format(port=fake.port, other=fake.port + 1)
    answer = fake.post_json({"generated_image_id": image_id, "upscaled_image_src": link})

    assert answer == 200  # known image: acknowledged, so it is not sent again
    order.refresh_from_db()
    assert order.provider_state[f"upscale:{image_id}"] == ""  # but the link is not kept


def test_a_finished_orders_upscale_webhook_is_acknowledged(with_webhooks, agent, photo):
    order = run_to_the_end(place(agent, photo, "day_to_dusk"), limit=50)
    assert order.status == "succeeded"
    image_id = next(iter(order.provider_state["sources"]))
    link = order.provider_state[f"upscale:{image_id}"]

    again = {"generated_image_id": image_id, "upscaled_image_src": link, "user_id": "u-1"}
    assert with_webhooks.post_json(again) == 200


def test_an_order_lost_while_submitting_is_refunded_not_sent_again(fake, agent, photo):
    from datetime import timedelta

    from django.utils import timezone

    from orders import lifecycle, services

    order = place(agent, photo, "item_removal")
    credits = Order.objects.get(pk=order.pk).owner.credits
    # A worker took it and died while handing it to AI HomeDesign, as order_run does it.
    assert lifecycle.order_claim(order)
    lifecycle.order_record_provider(order, provider="aihomedesign")
    lifecycle.order_state_update(order, {"submitting": True})
    Order.objects.filter(pk=order.pk).update(lease_expires_at=timezone.now() - timedelta(1))

    assert services.orders_reap_stranded() == 1

    order.refresh_from_db()
    assert order.status == "failed" and "could not be confirmed" in order.message
    assert order.owner.credits == credits + get_service("item_removal").credits
    assert fake.seen == []  # and nothing was sent again


def test_a_result_link_to_a_loopback_host_is_not_fetched(fake, agent, photo, settings):
    settings.EGRESS_TRUSTED_ORIGINS = []  # their "CDN" is http://localhost:<port>: loopback
    credits = agent.credits
    order = run_to_the_end(place(agent, photo, "item_removal"))

    assert order.status == "failed"
    assert "result link we do not follow" in order.message
    assert "loopback" in order.error_detail
    assert not [s for s in fake.seen if "/cdn/" in s.path]  # nothing was fetched there
    agent.refresh_from_db()
    assert agent.credits == credits  # refunded


def slots_taken() -> int:
    account = ProviderAccount.objects.filter(provider="aihomedesign").first()
    return len(account.recent_orders) if account else 0


def test_a_slot_is_spent_only_when_they_accept_the_order(fake, agent, photo, settings):
    settings.AIHOMEDESIGN_ORDERS_PER_WINDOW = 1
    fake.fail["/v1/order/image"] = [503] * 4  # an outage: the upload never gets through
    failed = run_to_the_end(place(agent, photo, "item_removal"))
    assert failed.status == "failed" and slots_taken() == 0

    fake.limit = 0  # their own 429 at submission: not accepted either
    waiting = run_to_the_end(place(agent, photo, "item_removal"))
    assert waiting.status == "queued" and slots_taken() == 0

    fake.limit = 10
    done = run_to_the_end(place(agent, photo, "item_removal"))
    assert done.status == "succeeded" and slots_taken() == 1
    # With the window full, the next order waits without asking them.
    fake.seen.clear()
    assert run_to_the_end(place(agent, photo, "item_removal")).status == "queued"
    assert fake.seen == []


@pytest.mark.parametrize(
    ("service", "options", "message"),
    [
        ("day_to_dusk", {"sky_style": "pink_sunset"}, "AI HomeDesign has no Pink sunset sky"),
        ("interior_design", {"colour": "cool_greys"}, "no Cool greys colour scheme"),
        ("virtual_staging", {"style": "luxury"}, "AI HomeDesign has no Luxury style"),
        ("image_enhancement", {"sharpen": False}, "cannot leave out a correction"),
    ],
)
def test_a_choice_they_lack_is_refused_before_charging_never_swapped(
    fake, agent, photo, service, options, message
):
    fake.catalog["service-creative-designer"][1][1]["items"] = [
        i for i in fake.catalog["service-creative-designer"][1][1]["items"]
        if i["title"] != "Cool Tones"
    ]  # fmt: skip
    call_command("aihomedesign_catalog")
    credits = agent.credits

    with pytest.raises(OrderRefused, match=message):
        place(agent, photo, service, **options)

    agent.refresh_from_db()
    assert agent.credits == credits
    assert not [s for s in fake.seen if s.path.startswith("/v1/order")]


def test_each_sky_goes_as_its_own_item_or_not_at_all(fake, agent, photo):
    call_command("aihomedesign_catalog")
    sent = {}
    for sky in ("golden_hour", "blue_hour", "deep_twilight"):
        order = run_to_the_end(place(agent, photo, "day_to_dusk", sky_style=sky))
        chosen = fake.orders[order.provider_ref]["request"]["selected_widgets"]
        sent[sky] = next(
            i["title"] for i in fake.catalog["service-day-to-dusk"][1][0]["items"]
            if i["id"] == chosen[0]["item_id"]
        )  # fmt: skip
    assert sent == {
        "golden_hour": "Golden Hour Sky",
        "blue_hour": "Blue Twilight Sky",
        "deep_twilight": "Twilight Sky Without Cloud",
    }


def test_an_enhancement_with_a_correction_left_out_goes_to_the_local_engine(
    fake, agent, photo, settings
):
    settings.ORDER_PROVIDERS = {"image_enhancement": ["aihomedesign", "local"]}
    order = run_to_the_end(place(agent, photo, "image_enhancement", sharpen=False))
    assert (order.status, order.provider) == ("succeeded", "local")


def test_staging_and_design_offer_the_one_result_they_deliver(agent_client, photo):
    for service in ("virtual_staging", "interior_design"):
        form = agent_client.get(reverse("orders:order_create", args=[photo.pk, service]))
        assert form.status_code == 200
        assert "Number of results" not in form.text
        assert get_service(service).max_results == 1
