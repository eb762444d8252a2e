"""An agent's first visit: sign up, create a project, upload photos, open one."""

import io
import re

from django.core import mail
from PIL import Image
from playwright.sync_api import expect

from homedesign.accounts.models import User
from homedesign.projects.models import Photo

from ..factories import PASSWORD
from ..images import jpeg_bytes, png_bytes, two_band_image, webp_bytes


def read_bands(img) -> dict:
    """The size of an image and its top and bottom colours as the browser draws it (read
    from a screenshot: a canvas may not read pixels of an image from a bucket's origin)."""
    size = img.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    drawn = Image.open(io.BytesIO(img.screenshot())).convert("RGB")
    width, height = drawn.size
    return {
        "width": size[0],
        "height": size[1],
        "top": drawn.getpixel((width // 2, height // 10)),
        "bottom": drawn.getpixel((width // 2, height * 9 // 10)),
    }


def is_red(rgb) -> bool:
    return rgb[0] > 150 and rgb[2] < 100


def is_blue(rgb) -> bool:
    return rgb[2] > 150 and rgb[0] < 100


def test_sign_up_create_project_upload_three_photos_and_open_one(page, screenshot):
    page.goto("/accounts/signup/")
    page.get_by_label("E-mail address").fill("lea@agence-lumiere.fr")
    screenshot("signup")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    page.goto(re.search(r"http://\S+", mail.outbox[-1].body).group(0))
    page.get_by_label("Full name").fill("Léa Lumière")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    screenshot("signup-complete")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Create your first project")).to_be_visible()
    expect(page.get_by_test_id("credits")).to_have_text(str(User.objects.get().credits))
    screenshot("dashboard-empty")

    page.get_by_role("link", name="New project").click()
    page.get_by_label("Project name").fill("Maison des Vignes")
    page.get_by_label("Address").fill("8 Chemin des Vignes, Bordeaux")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_text("No photos in this project yet.")).to_be_visible()
    screenshot("project-empty")

    # Stored sideways with EXIF "rotate 90° clockwise": upright, the red band is on top.
    sideways = two_band_image((400, 600)).rotate(90, expand=True)
    page.locator("#photo-input").set_input_files(
        [
            {"name": "floor-plan.png", "mimeType": "image/png", "buffer": png_bytes((900, 600))},
            {
                "name": "bedroom-portrait.jpg",
                "mimeType": "image/jpeg",
                "buffer": jpeg_bytes(image=sideways, orientation=6),
            },
            {"name": "garden.webp", "mimeType": "image/webp", "buffer": webp_bytes((800, 500))},
            {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()[:2000]},
        ]
    )

    rows = page.locator(".upload-row")
    expect(rows.filter(has_text="Uploaded")).to_have_count(3)
    expect(rows.filter(has_text="broken.jpg is damaged or incomplete")).to_have_count(1)
    thumbnails = page.locator("#photo-grid img")
    expect(thumbnails).to_have_count(3)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#photo-grid img')]"
        ".every(img => img.complete && img.naturalWidth)"
    )
    screenshot("project-with-photos")
    assert Photo.objects.count() == 3

    portrait = page.get_by_role("img", name="bedroom-portrait.jpg")
    bands = read_bands(portrait)
    assert bands["height"] > bands["width"]
    assert is_red(bands["top"]) and is_blue(bands["bottom"]), bands

    portrait.click()
    expect(page.get_by_role("heading", name="bedroom-portrait.jpg")).to_be_visible()
    expect(page.get_by_text("400 × 600")).to_be_visible()
    display = page.get_by_test_id("photo-display")
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=display.element_handle()
    )
    bands = read_bands(display)
    assert (bands["width"], bands["height"]) == (400, 600)
    assert is_red(bands["top"]) and is_blue(bands["bottom"]), bands
    screenshot("photo-detail")


def test_project_dashboard_and_tablet_layout(page, screenshot, live_server, django_user_model):
    from ..factories import make_photo, make_project

    user = django_user_model.objects.create_user("tab@example.com", PASSWORD, name="Tom Tablet")
    project = make_project(user, name="Appartement Haussmann", address="5 Bd Haussmann, Paris")
    for index in range(5):
        make_photo(project, name=f"room-{index}.jpg")
    make_project(user, name="Studio Montmartre")

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("tab@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("5 photos")).to_be_visible()
    screenshot("dashboard")

    page.set_viewport_size({"width": 820, "height": 1180})
    screenshot("dashboard-tablet")
    page.get_by_role("link", name="Appartement Haussmann").click()
    expect(page.locator("#photo-grid img")).to_have_count(5)
    screenshot("project-tablet")
    page.locator("#photo-grid a").first.click()
    screenshot("photo-detail-tablet")
