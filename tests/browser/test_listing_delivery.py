"""From a finished listing to what the seller gets: the label chosen, the ZIP built with
progress on the page and downloaded, the branded share page at phone, tablet and desktop
widths. Screenshots under test-results/screenshots/ (delivery-*, share-listing-*)."""

import io
import zipfile

import numpy as np
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from orders.models import ListingZip
from orders.providers.base import result_image
from orders.services import share_link_create
from orders.tasks import listing_zip_task

from ..factories import PASSWORD, make_finished_order, make_photo, make_project, make_user
from ..images import jpeg_bytes, two_band_image

WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
IMAGES_LOADED = "() => [...document.querySelectorAll('.compare img')].every(i => i.naturalWidth)"


def room(size: tuple[int, int], *, furnished: bool) -> np.ndarray:
    """A plain room (wall, floor) and, staged, a sofa and a rug in it."""
    width, height = size
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:] = (226, 221, 210)
    pixels[int(height * 0.62) :] = (168, 130, 95)
    if furnished:
        pixels[int(height * 0.48) : int(height * 0.7), int(width * 0.25) : int(width * 0.7)] = (
            70, 96, 120,
        )  # fmt: skip
        pixels[int(height * 0.74) : int(height * 0.86), int(width * 0.3) : int(width * 0.66)] = (
            205, 190, 160,
        )  # fmt: skip
    return pixels


def listing_with_edits(email: str):
    agent = make_user(
        email, name="Alice Martin", agency="Martin Immobilier", phone="+33 6 12 34 56 78",
        contact_email="alice@martin-immobilier.fr",
    )  # fmt: skip
    project = make_project(
        agent, name="Bright flat near the Parc de la Tête d'Or", address="12 Rue des Lilas, Lyon"
    )
    size = (1200, 800)
    living = make_photo(
        project, name="living room.jpg", data=jpeg_bytes(image=two_band_image(size))
    )
    hall = make_photo(project, name="hall.jpg", data=jpeg_bytes(image=two_band_image(size)))
    staged = make_finished_order(
        living, service="virtual_staging", style="scandinavian",
        images=[result_image(room(size, furnished=True))],
    )  # fmt: skip
    enhanced = make_finished_order(
        hall, service="image_enhancement", provider="local",
        images=[result_image(room(size, furnished=False))],
    )  # fmt: skip
    return agent, project, [staged.results.get(), enhanced.results.get()]


def log_in(page, email: str) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("width", WIDTHS)
def test_share_page_a_seller_would_forward(page, screenshot, live_server, width):
    agent, project, _ = listing_with_edits(f"share-{width}@example.com")
    link = share_link_create(
        owner=agent, subject=project, expires_at=None, include_originals=True,
        show_address=True,
    )  # fmt: skip
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})

    page.goto(link.get_absolute_url())

    expect(page.get_by_test_id("listing-title")).to_have_text(project.name)
    expect(page.get_by_test_id("listing-address")).to_have_text("12 Rue des Lilas, Lyon")
    expect(page.get_by_test_id("agent")).to_contain_text("Alice Martin")
    expect(page.get_by_test_id("agent")).to_contain_text("Martin Immobilier")
    expect(page.get_by_role("link", name="+33 6 12 34 56 78")).to_be_visible()
    captions = page.get_by_test_id("caption")
    expect(captions).to_have_text(
        ["Virtually staged · Scandinavian living room", "Image enhancement · Indoor"]
    )
    staged = page.get_by_test_id("result").first
    for label in ("Full size", "MLS", "Web"):
        expect(staged.get_by_role("link", name=label, exact=True)).to_be_visible()
    page.wait_for_function(IMAGES_LOADED)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.locator(".compare-range").first.fill("30")
    assert "30%" in page.locator(".compare").first.get_attribute("style")
    screenshot(f"share-listing-{width}")

    with page.expect_download() as download:
        staged.get_by_role("link", name="MLS", exact=True).click()
    assert download.value.suggested_filename == "virtual_staging-1-mls.jpg"


@pytest.mark.parametrize("width", WIDTHS)
def test_label_zip_and_gallery_pages(page, screenshot, live_server, width):
    agent, project, results = listing_with_edits(f"zip-{width}@example.com")
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    log_in(page, agent.email)

    page.goto(reverse("orders:project_gallery", args=[project.pk]))
    expect(page.get_by_text("Virtually staged · Scandinavian living room").first).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"delivery-gallery-{width}")
    page.get_by_label("Label corner").select_option("top_right")
    page.get_by_role("button", name="Save label").click()
    expect(page.get_by_text("Disclosure label saved")).to_be_visible()

    page.goto(reverse("orders:project_gallery", args=[project.pk]))
    page.get_by_label("Each original photo beside its edit").check()
    page.get_by_role("button", name="Make the ZIP").click()
    expect(page.get_by_test_id("zip-progress")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"delivery-zip-waiting-{width}")

    listing_zip_task.call(zip_id=str(ListingZip.objects.get().pk))  # the worker, meanwhile

    expect(page.get_by_test_id("zip-download")).to_be_visible(timeout=10_000)  # by polling
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"delivery-zip-ready-{width}")
    with page.expect_download() as download:
        page.get_by_test_id("zip-download").click()
    with open(download.value.path(), "rb") as file:
        names = zipfile.ZipFile(io.BytesIO(file.read())).namelist()
    assert names == [
        "01-living-room.jpg",
        "01-living-room-virtually-staged.jpg",
        "02-hall.jpg",
        "02-hall-image-enhancement.jpg",
    ]

    page.goto(results[0].order.get_absolute_url())
    page.wait_for_function(IMAGES_LOADED)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"delivery-order-{width}")
