"""Agents order from remote providers through the pages: AI HomeDesign staging from the
order form, IACrea exterior creation from the mask editor, AdCreative background removal;
the worker follows each job (polls, webhooks from the fakes into the live server) until
the gallery shows it."""

import re
import time

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import expect

from orders.models import Order, ProviderAccount
from orders.providers.handover import webhook_url

from ..factories import make_photo, make_project, make_user
from ..fake_adcreative import FakeAdCreative
from ..fakes import FakeAiHomeDesign, FakeIacrea
from ..images import jpeg_bytes, two_band_image
from ..queue import work_queue
from .test_mask_editor import drag, open_editor
from .test_order_flow import IMAGES_LOADED, log_in


@pytest.fixture
def remote(settings, live_server):
    aihd, iacrea = FakeAiHomeDesign(), FakeIacrea()
    settings.PUBLIC_BASE_URL = live_server.url
    settings.AIHOMEDESIGN_UPSCALE = True
    settings.REMOTE_POLL_SECONDS = 0
    settings.PROVIDER_BACKOFF_SECONDS = 0.01
    settings.AIHOMEDESIGN_API_KEY, settings.AIHOMEDESIGN_BASE_URL = aihd.key, aihd.url + "/v1"
    settings.IACREA_API_KEY, settings.IACREA_USER_ID = iacrea.key, FakeIacrea.USER_ID
    settings.IACREA_BASE_URL = iacrea.url + "/api"
    settings.EGRESS_TRUSTED_ORIGINS = [aihd.cdn, iacrea.cdn]  # their "CDNs", on loopback
    aihd.webhook_url = webhook_url("aihomedesign")
    yield aihd, iacrea
    aihd.close()
    iacrea.close()
    assert not aihd.errors and not iacrea.errors, aihd.errors + iacrea.errors


def test_staging_by_ai_homedesign_from_form_to_gallery(page, remote, screenshot):
    aihd, _ = remote
    user = make_user("stella@example.com", name="Stella Staging")
    photo = make_photo(make_project(user), name="empty-room.jpg", data=jpeg_bytes((1200, 800)))
    log_in(page, user.email)
    page.goto(photo.get_absolute_url())
    page.get_by_role("link", name="Order an edit").click()
    card = page.locator("[data-service=virtual_staging]")
    expect(card.get_by_role("link", name="Choose")).to_be_visible()  # available: key is set
    card.get_by_role("link", name="Choose").click()
    page.get_by_label("Room type").select_option("bedroom")
    page.get_by_label("Style").select_option("scandinavian")
    page.get_by_role("button", name="Order for 4 credits").click()
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()

    run_worker_until_finished()  # upload, submit, polls, upscale webhook, download

    expect(page.get_by_test_id("gallery")).to_be_visible(timeout=15_000)
    page.wait_for_function(IMAGES_LOADED)
    screenshot("remote-aihd-gallery")
    order = Order.objects.get()
    assert (order.status, order.provider) == ("succeeded", "aihomedesign")
    assert aihd.orders[order.provider_ref]["request"]["space_name"] == "space-bedroom"
    assert (order.results.get().width, order.results.get().height) == (2400, 1600)  # upscaled


def test_exterior_creation_by_iacrea_from_the_editor_to_gallery(page, remote, screenshot):
    _, iacrea = remote
    iacrea.polls_until_done = 3
    user = make_user("pierre@example.com", name="Pierre Piscine")
    photo = make_photo(make_project(user), name="garden.jpg", data=jpeg_bytes((1000, 700)))
    open_editor(page, user, photo, service="exterior_creation")
    drag(page, (300, 450), (700, 450))
    page.get_by_label("Create").select_option("POOL")
    screenshot("remote-iacrea-editor")
    page.get_by_role("button", name="Order for 4 credits").click()
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()

    run_worker_until_finished()  # generate, then get until SUCCEEDED, download

    expect(page.get_by_test_id("gallery")).to_be_visible(timeout=15_000)
    page.wait_for_function(IMAGES_LOADED)
    screenshot("remote-iacrea-gallery")
    order = Order.objects.get()
    assert (order.status, order.provider) == ("succeeded", "iacrea")
    assert iacrea.generations[order.provider_ref]["polls"] == 4  # followed until SUCCEEDED
    with order.results.get().full.open("rb") as file:
        pixels = np.asarray(Image.open(file).convert("RGB")).astype(int)
    assert np.abs(pixels[450, 500] - (40, 110, 200)).max() < 10  # the pool, where painted
    assert np.abs(pixels[100, 100] - (40, 110, 200)).max() > 60  # and nowhere else


def test_background_removal_by_adcreative_gives_a_transparent_png(
    page, settings, live_server, screenshot
):
    fake = FakeAdCreative()
    settings.ADCREATIVE_BASE_URL = fake.url
    for name in ("APPLICATION_ID", "JWT_PRIVATE_KEY", "API_KEY", "API_SECRET", "USER_ID"):
        setattr(settings, f"ADCREATIVE_{name}", getattr(FakeAdCreative, name))
    settings.ORDER_PROVIDERS = {"background_removal": ["adcreative"]}
    settings.REMOTE_POLL_SECONDS = 0
    user = make_user("bella@example.com", name="Bella Background")
    photo = make_photo(make_project(user), name="chair.jpg", data=jpeg_bytes(
        image=two_band_image((900, 600))))  # fmt: skip
    log_in(page, user.email)
    page.goto(photo.get_absolute_url())
    page.get_by_role("link", name="Order an edit").click()
    page.locator("[data-service=background_removal]").get_by_role("link", name="Choose").click()
    page.get_by_role("button", name="Order for 1 credit").click()
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    try:
        run_worker_until_finished()  # token, start, progress until 5, download
    finally:
        fake.close()

    expect(page.get_by_test_id("gallery")).to_be_visible(timeout=15_000)
    page.wait_for_function(IMAGES_LOADED)
    page.locator(".compare-range").first.fill("5")  # mostly "after": the cut-out on a checker
    screenshot("remote-adcreative-gallery")
    order = Order.objects.get()
    assert (order.status, order.provider) == ("succeeded", "adcreative") and not fake.errors
    with order.results.get().full.open("rb") as file:
        result = Image.open(file)
        assert (result.format, result.mode) == ("PNG", "RGBA")
        alpha = np.asarray(result)[..., 3]
    assert alpha[:, :250].max() == 0 and alpha[:, 350:].min() == 255  # left third cut out


@pytest.mark.parametrize(
    ("service", "provider", "paint"),
    [
        ("virtual_staging", "aihomedesign", False),
        ("interior_design", "aihomedesign", False),
        ("image_enhancement", "aihomedesign", False),
        ("day_to_dusk", "aihomedesign", False),
        ("item_removal", "aihomedesign", False),
        ("item_removal_mask", "aihomedesign", True),
        ("item_removal", "iacrea", False),
        ("declutter", "iacrea", False),  # automatic: IACrea takes no mask at first
        ("exterior_creation", "iacrea", True),
    ],
)
def test_every_remote_service_from_order_form_to_gallery(
    page, remote, settings, service, provider, paint
):
    settings.ORDER_PROVIDERS = {service: [provider]}
    user = make_user(f"{service}.{provider}@example.com")
    photo = make_photo(make_project(user), data=jpeg_bytes((1000, 700)))
    if paint:
        open_editor(page, user, photo, service=service)
        drag(page, (300, 450), (700, 450))
    else:
        log_in(page, user.email)
        page.goto(photo.get_absolute_url())
        page.get_by_role("link", name="Order an edit").click()
        page.locator(f"[data-service={service}]").get_by_role("link", name="Choose").click()
    page.get_by_role("button", name=re.compile("^Order for")).click()
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()

    run_worker_until_finished()

    expect(page.get_by_test_id("gallery")).to_be_visible(timeout=15_000)
    page.wait_for_function(IMAGES_LOADED)
    order = Order.objects.get()
    assert (order.status, order.provider) == ("succeeded", provider)


def test_staff_see_the_catalogue_mapping_and_provider_accounts(page, remote, screenshot):
    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    call_command("aihomedesign_catalog")
    ProviderAccount.objects.create(provider="iacrea", remaining_photos=41)
    log_in(page, staff.email)

    page.goto("/admin/orders/catalogentry/?service_name=service-day-to-dusk")
    expect(page.get_by_role("row", name=re.compile("Golden Hour Sky.*Golden hour"))).to_be_visible()
    screenshot("admin-catalog-entries")
    page.goto("/admin/orders/provideraccount/")
    expect(page.get_by_role("row", name=re.compile("iacrea.*41"))).to_be_visible()
    screenshot("admin-provider-accounts")


def test_an_order_waiting_for_the_rate_limit_says_so(page, remote, settings, screenshot):
    settings.AIHOMEDESIGN_ORDERS_PER_WINDOW = 0
    settings.ORDER_PROVIDERS = {"item_removal": ["aihomedesign"]}
    user = make_user("wanda@example.com", name="Wanda Waiting")
    photo = make_photo(make_project(user), data=jpeg_bytes((1000, 700)))
    log_in(page, user.email)
    page.goto(photo.get_absolute_url())
    page.get_by_role("link", name="Order an edit").click()
    page.locator("[data-service=item_removal]").get_by_role("link", name="Choose").click()
    page.get_by_role("button", name=re.compile("^Order for")).click()

    work_queue()  # takes it, finds no free slot, puts it back

    expect(page.get_by_text(re.compile("Waiting for a free slot at AI HomeDesign"))).to_be_visible(
        timeout=10_000
    )
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    screenshot("remote-order-waiting-for-slot")


def run_worker_until_finished(deadline_seconds: float = 120) -> None:
    """Run the queue until the order is finished. One `db_worker --batch` is not enough: a
    provider's webhook can arrive (and queue the next poll) after that batch has ended,
    the later the busier the machine."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        work_queue()
        if not Order.objects.filter(status__in=Order.UNFINISHED).exists():
            return
        time.sleep(0.2)
