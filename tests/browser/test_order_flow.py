"""Order an enhancement, watch the page turn from progress into the gallery without a
reload, compare before and after, and open the share link as a stranger."""

from playwright.sync_api import expect

from orders.models import Order

from ..factories import PASSWORD, make_photo, make_project, make_user
from ..images import jpeg_bytes
from ..queue import work_queue
from .conftest import csp_violations

IMAGES_LOADED = "() => [...document.querySelectorAll('.compare img')].every(i => i.naturalWidth)"


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_order_progress_turns_into_gallery_and_share_link_opens_for_anyone(
    page, browser, live_server, screenshot
):
    user = make_user("olivia@example.com", name="Olivia Order")
    project = make_project(user, name="Maison Bleue", address="2 Rue Secrète")
    photo = make_photo(project, name="kitchen.jpg", data=jpeg_bytes((1600, 1000)))
    log_in(page, user.email)

    page.goto(photo.get_absolute_url())
    page.get_by_role("link", name="Order an edit").click()
    screenshot("order-services")
    page.locator("[data-service=image_enhancement]").get_by_role("link", name="Choose").click()
    page.get_by_label("Scene").select_option("indoor")
    screenshot("order-form")
    page.get_by_role("button", name="Order for 1 credit").click()

    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    expect(page.get_by_test_id("credits")).to_have_text(str(user.credits - 1))
    screenshot("order-queued")
    page.evaluate("window.stillTheSamePage = true")
    order = Order.objects.get()
    polls = []
    page.on(
        "request",
        lambda request: (
            polls.append(request.url) if order.get_absolute_url() in request.url else None
        ),
    )

    work_queue()  # the worker picks the order up while the page polls

    gallery = page.get_by_test_id("gallery")
    expect(gallery).to_be_visible(timeout=10_000)
    assert page.evaluate("window.stillTheSamePage") is True  # swapped in, not reloaded
    page.wait_for_function(IMAGES_LOADED)
    screenshot("order-gallery")
    polls_at_the_end = len(polls)
    page.wait_for_timeout(4500)
    assert len(polls) == polls_at_the_end, "polling went on after the order finished"

    page.locator(".compare-range").first.fill("20")
    assert "20%" in page.locator(".compare").first.get_attribute("style")

    page.get_by_role("button", name="Create share link").click()
    share_url = page.get_by_label("Share link").first.input_value()
    screenshot("order-shared")

    page.get_by_role("link", name="Make a variation").click()
    page.get_by_label("Sharpen").uncheck()
    page.get_by_role("button", name="Order for 1 credit").click()
    work_queue()
    expect(page.get_by_test_id("gallery")).to_be_visible(timeout=10_000)
    page.get_by_role("link", name="All edits of this photo").click()
    tiles = page.locator(".gallery-strip img")
    expect(tiles).to_have_count(2)
    expect(page.get_by_text("Variation · Image enhancement · Indoor")).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gallery-strip img')].every(i => i.naturalWidth)"
    )
    screenshot("photo-gallery")

    stranger = browser.new_context()
    public = stranger.new_page()
    blocked = csp_violations(public)
    response = public.goto(share_url)
    assert response.status == 200
    expect(public.locator(".compare img.after")).to_have_count(1)
    public.wait_for_function(IMAGES_LOADED)
    assert "2 Rue Secrète" not in public.content() and user.email not in public.content()
    public.screenshot(path=screenshot.folder / "share-page.png", full_page=True)
    stranger.close()
    assert not blocked, blocked
