"""A seller reviews a listing in Chromium: approves one photo, asks for a change on
another; the agent answers with a variation that appears on the same link; a revoked
link takes no more answers."""

import pytest
from playwright.sync_api import expect

from orders import services
from orders.models import Order, Review
from orders.tasks import run_order_task

from ..factories import make_order, make_photo, make_project, make_user
from ..images import jpeg_bytes
from .test_order_flow import log_in

WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.mark.parametrize("width", WIDTHS)
def test_a_seller_reviews_and_the_agent_answers(page, browser, live_server, screenshot, width):
    agent = make_user(f"review-{width}@example.com", name="Rita Review")
    project = make_project(agent, name="Appartement Canal")
    orders = []
    for name in ("salon.jpg", "facade.jpg"):
        order = make_order(
            make_photo(project, name=name, data=jpeg_bytes((900, 600))), service="day_to_dusk"
        )
        run_order_task.call(order_id=str(order.pk))
        orders.append(order)
    link = services.share_link_create(
        owner=agent, subject=project, expires_at=None, include_originals=False, for_review=True
    )
    seller = browser.new_context(
        base_url=live_server.url, viewport={"width": WIDTHS[width], "height": 900}
    )
    visitor = seller.new_page()
    visitor.set_default_timeout(15_000)

    visitor.goto(link.get_absolute_url())
    first, second = (f"[data-testid=review-{o.results.get().pk}]" for o in orders)
    visitor.locator(first).get_by_role("button", name="Approve").click()
    expect(visitor.get_by_text("Thank you: the agent sees your answer.")).to_be_visible()
    visitor.locator(second).get_by_text("Ask for a change").click()
    visitor.locator(second).get_by_label("What should change?").fill(
        "The sky looks too orange; a blue hour?"
    )
    visitor.locator(second).get_by_role("button", name="Send to the agent").click()
    expect(visitor.locator(second).get_by_text("You asked for a change")).to_be_visible()
    expect(visitor.locator(first).get_by_text("You approved this photo")).to_be_visible()
    visitor.screenshot(path=screenshot.folder / f"review-seller-{width}.png", full_page=True)

    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    log_in(page, agent.email)
    expect(page.get_by_test_id("reviews-waiting")).to_have_text("1")
    page.get_by_test_id("reviews-waiting").click()
    expect(page.get_by_text("The sky looks too orange; a blue hour?")).to_be_visible()
    screenshot(f"review-agent-list-{width}")
    page.get_by_role("link", name="Answer with a variation").click()
    page.get_by_label("Sky").select_option("blue_hour")
    page.get_by_role("button", name="Order for").click()
    variation = Order.objects.filter(parent=orders[1]).get()
    run_order_task.call(order_id=str(variation.pk))
    assert Review.objects.get(verdict="changes").answered_by == variation

    visitor.reload()
    expect(visitor.locator(f"[data-testid=review-{variation.results.get().pk}]")).to_be_visible()
    services.share_link_revoke(link=link)
    visitor.goto(link.get_absolute_url())
    expect(visitor.get_by_text("This link is no longer available")).to_be_visible()
    assert Review.objects.count() == 2
    seller.close()
