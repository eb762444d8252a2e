"""A listing order in Chromium: tick photos, see the total, place one batch, and watch
one poll request per interval fill in every photo's result."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Batch

from ..factories import make_photo, make_project, make_user
from ..images import jpeg_bytes
from ..queue import work_queue
from .test_order_flow import log_in

WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_listing_is_enhanced_in_one_action(page, live_server, screenshot, width):
    user = make_user(f"batch-{width}@example.com", name="Bea Batch")
    project = make_project(user, name="Villa des Pins")
    for n in range(1, 6):
        make_photo(project, name=f"{n:02}-room.jpg", data=jpeg_bytes((800, 600)))
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    log_in(page, user.email)

    page.goto(project.get_absolute_url())
    page.get_by_role("link", name="Order for the listing").click()
    page.locator("[data-service=image_enhancement]").get_by_role("link", name="Choose").click()
    expect(page.get_by_test_id("batch-total")).to_have_text("5 photos · 5 credits")
    page.get_by_label("04-room.jpg").uncheck()
    expect(page.get_by_test_id("batch-total")).to_have_text("4 photos · 4 credits")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"batch-form-{width}")
    page.get_by_role("button", name="Order for the selected photos").click()

    expect(page.get_by_test_id("batch-progress")).to_have_text("0 of 4 done")
    batch = Batch.objects.get()
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url))
    work_queue()  # the worker runs the four while the page polls

    expect(page.get_by_test_id("batch-progress")).to_have_text("4 of 4 done", timeout=30_000)
    expect(page.locator(".batch-order.status-succeeded")).to_have_count(4)
    # One request per interval for the whole batch, never one per order.
    order_polls = [url for url in polls if url.startswith(f"{live_server.url}/orders/")]
    batch_polls = [url for url in polls if re.search(f"/batches/{batch.pk}/$", url)]
    assert batch_polls and not order_polls, polls
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.batch-order img')].every(i => i.naturalWidth)"
    )
    screenshot(f"batch-done-{width}")
