"""The agent's logo, from the profile page to the share page a seller opens, with the
disclosure label in a top corner clear of the comparison's tags. Screenshots under
test-results/screenshots/ (profile-logo-*, share-logo-label-*)."""

import io

import pytest
from django.urls import reverse
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import expect

from orders.tasks import deliver_results_task

from .test_listing_delivery import (
    IMAGES_LOADED,
    NO_SIDEWAYS_SCROLL,
    WIDTHS,
    listing_with_edits,
    log_in,
)

LOGO_LOADED = "() => document.querySelector('.logo-plate img')?.naturalWidth > 0"


def wordmark() -> bytes:
    """A wide agency logo on transparency: a roof and the agency's name."""
    image = Image.new("RGBA", (900, 260), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon([(20, 130), (130, 30), (240, 130)], fill=(196, 74, 52, 255))
    draw.rectangle((55, 130, 205, 230), fill=(196, 74, 52, 255))
    font = ImageFont.load_default(size=84)
    draw.text((280, 60), "MARTIN", font=font, fill=(28, 42, 84, 255))
    draw.text((282, 150), "IMMOBILIER", font=ImageFont.load_default(size=52), fill=(90, 98, 120))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_logo_from_profile_to_share_page(page, screenshot, live_server, tmp_path, width):
    agent, project, results = listing_with_edits(f"logo-{width}@example.com")
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    log_in(page, agent.email)
    logo = tmp_path / "martin-logo.png"
    logo.write_bytes(wordmark())
    not_an_image = tmp_path / "logo.png"
    not_an_image.write_text("a text file someone renamed")

    # A bad file is refused with a message; what was typed stays.
    page.goto(reverse("accounts:profile"))
    page.get_by_label("Agency").fill("Martin Immobilier Lyon")
    page.get_by_label("Logo").set_input_files(not_an_image)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("logo-error")).to_contain_text("is not a PNG, JPEG or WebP image")
    expect(page.get_by_label("Agency")).to_have_value("Martin Immobilier Lyon")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"profile-logo-error-{width}")

    page.get_by_label("Logo").set_input_files(logo)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile was saved.")).to_be_visible()
    expect(page.get_by_test_id("profile-logo")).to_be_visible()
    page.wait_for_function(LOGO_LOADED)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"profile-logo-{width}")

    # The label in the top right, where the "After" tag used to be.
    page.goto(reverse("orders:project_gallery", args=[project.pk]))
    page.get_by_label("Label corner").select_option("top_right")
    page.get_by_role("button", name="Save label").click()
    expect(page.get_by_text("Disclosure label saved")).to_be_visible()
    deliver_results_task.call(result_ids=[str(r.pk) for r in results])  # the worker
    page.get_by_role("button", name="Create share link").click()
    share_url = page.locator(".share-url").first.input_value()

    page.goto(share_url)
    expect(page.get_by_test_id("agent-logo")).to_be_visible()
    expect(page.get_by_test_id("agent")).to_contain_text("Martin Immobilier Lyon")
    page.wait_for_function(LOGO_LOADED)
    page.wait_for_function(IMAGES_LOADED)
    staged = page.locator(".compare").first
    assert staged.get_attribute("data-label") == "top_right"
    picture = staged.locator("img.after").bounding_box()
    after_tag = staged.locator(".tag-after").bounding_box()
    # The label is burned into the picture's top right: its plate, at most the top fifth
    # and the right half; the tag is clear of it.
    label_area = {
        "x": picture["x"] + picture["width"] / 2,
        "y": picture["y"],
        "width": picture["width"] / 2,
        "height": picture["height"] / 5,
    }
    assert not boxes_overlap(after_tag, label_area)
    assert after_tag["y"] > picture["y"] + picture["height"] / 2
    # The enhancement beside it has no label, and its tags line up with the staged one's.
    expect(page.locator(".compare.tags-bottom")).to_have_count(2)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"share-logo-label-{width}")

    # What the view answers (from a bucket, its redirect to the file).
    response = page.request.get(
        page.get_by_test_id("agent-logo").get_attribute("src"), max_redirects=0
    )
    assert response.status in (200, 302)
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
