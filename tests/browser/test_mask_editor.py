"""The mask editor in Chromium: strokes land on the photo's own pixels, the export is exact,
eraser, undo and touch work, and an order placed from the editor removes what was painted."""

import base64
import io

import cv2
import numpy as np
import pytest
from django.urls import reverse
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from maskeditor.models import Mask
from orders.models import Order

from ..factories import PASSWORD, make_photo, make_project, make_user
from ..images import encoded, jpeg_bytes, two_band_image
from ..queue import work_queue

EXPORT = """async () => {
  const blob = await window.maskEditor.exportMask();
  if (!blob) return null;
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 1) text += String.fromCharCode(bytes[i]);
  return btoa(text);
}"""


@pytest.fixture
def agent(db):
    return make_user("painter@example.com", name="Paul Painter")


def open_editor(page, user, photo, service="item_removal_mask"):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(reverse("orders:order_create", args=[photo.pk, service]))
    page.wait_for_function("() => document.getElementById('photo').complete")
    set_brush(page, 40)


def set_brush(page, size: int) -> None:
    page.evaluate(
        "(size) => { const s = document.getElementById('brush-size'); s.value = size;"
        " s.dispatchEvent(new Event('input')); }",
        size,
    )


def to_screen(page, x: float, y: float) -> tuple[float, float]:
    box = page.locator("#mask").bounding_box()
    width, height = page.evaluate(
        "() => [document.getElementById('mask').width, document.getElementById('mask').height]"
    )
    return box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height


def drag(page, start, end, steps=25):
    page.mouse.move(*to_screen(page, *start))
    page.mouse.down()
    page.mouse.move(*to_screen(page, *end), steps=steps)
    page.mouse.up()


def exported(page) -> np.ndarray | None:
    data = page.evaluate(EXPORT)
    if data is None:
        return None
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    pixels = np.asarray(image)
    painted = np.all(pixels == (0x78, 0x78, 0xCD, 255), axis=-1)
    clear = np.all(pixels == (0, 0, 0, 0), axis=-1)
    assert image.mode == "RGBA" and np.all(painted | clear), "only #7878CD or transparent"
    return painted


def expected_stroke(size, start, end, width) -> np.ndarray:
    image = Image.new("L", size, 0)
    draw = ImageDraw.Draw(image)
    draw.line([start, end], fill=255, width=width)
    for x, y in (start, end):
        draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    return np.asarray(image) > 0


def matches(painted: np.ndarray, expected: np.ndarray, tolerance: int = 3) -> bool:
    """Painted covers the expected stroke and strays no further than `tolerance` pixels
    (the screen-to-photo rounding of one CSS pixel at this zoom)."""
    kernel = np.ones((2 * tolerance + 1, 2 * tolerance + 1), np.uint8)
    inner = cv2.erode(expected.astype(np.uint8), kernel).astype(bool)
    outer = cv2.dilate(expected.astype(np.uint8), kernel).astype(bool)
    return bool(np.all(painted[inner]) and not np.any(painted & ~outer))


PHOTOS = {
    "landscape": lambda: jpeg_bytes((1200, 800)),
    # Stored sideways with EXIF orientation 6: upright it is a 600 × 900 portrait.
    "rotated-portrait": lambda: jpeg_bytes(
        image=two_band_image((600, 900)).rotate(90, expand=True), orientation=6
    ),
    "panorama": lambda: encoded(two_band_image((2400, 600)), "PNG"),
}


@pytest.mark.parametrize("kind", PHOTOS)
def test_a_mouse_stroke_lands_on_the_photos_own_pixels(page, agent, kind, screenshot):
    photo = make_photo(make_project(agent), name=f"{kind}.jpg", data=PHOTOS[kind]())
    width, height = photo.width, photo.height
    open_editor(page, agent, photo)
    assert page.evaluate(
        "() => [document.getElementById('mask').width, document.getElementById('mask').height]"
    ) == [width, height]
    start, end = (width * 0.2, height * 0.3), (width * 0.8, height * 0.6)

    drag(page, start, end)
    screenshot(f"editor-{kind}")
    page.get_by_role("button", name="Order for 2 credits").click()
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()

    stored = Mask.objects.get(photo=photo)
    pixels = np.asarray(Image.open(stored.file.open("rb")))
    painted = np.all(pixels == (0x78, 0x78, 0xCD, 255), axis=-1)
    assert pixels.shape[:2] == (height, width)
    assert matches(painted, expected_stroke((width, height), start, end, 40))
    assert Order.objects.get().mask


def test_eraser_undo_and_redo_change_the_export(page, agent):
    photo = make_photo(make_project(agent), data=jpeg_bytes((1000, 700)))
    open_editor(page, agent, photo)
    drag(page, (100, 350), (900, 350))
    page.get_by_role("button", name="Eraser").click()
    set_brush(page, 120)
    drag(page, (500, 250), (500, 450), steps=5)

    erased = exported(page)
    page.keyboard.press("Control+z")
    undone = exported(page)
    page.keyboard.press("Control+Shift+z")
    redone = exported(page)
    page.get_by_role("button", name="Clear").click()

    assert erased[350, 200] and not erased[350, 500]
    assert undone[350, 200] and undone[350, 500]
    assert np.array_equal(redone, erased)
    assert exported(page) is None


def test_touch_draws(browser, live_server, agent, screenshot):
    context = browser.new_context(
        base_url=live_server.url, has_touch=True, viewport={"width": 820, "height": 1180}
    )
    page = context.new_page()
    photo = make_photo(make_project(agent), data=jpeg_bytes((1000, 700)))
    open_editor(page, agent, photo)
    cdp = context.new_cdp_session(page)
    points = [to_screen(page, 150 + i * 35, 300) for i in range(21)]

    def touch(kind, point):
        touch_points = [] if kind == "touchEnd" else [{"x": point[0], "y": point[1], "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touch_points})

    touch("touchStart", points[0])
    for point in points[1:]:
        touch("touchMove", point)
    touch("touchEnd", points[-1])

    painted = exported(page)
    page.screenshot(path=screenshot.folder / "editor-tablet-touch.png", full_page=True)
    context.close()
    assert painted is not None
    assert painted[300, 200] and painted[300, 800] and not painted[100, 500]


def test_an_empty_mask_is_refused_in_the_page(page, agent):
    photo = make_photo(make_project(agent))
    open_editor(page, agent, photo)

    page.get_by_role("button", name="Order for 2 credits").click()

    expect(page.get_by_text("Paint the area to change first: the mask is empty.")).to_be_visible()
    assert not Order.objects.exists() and not Mask.objects.exists()


def test_an_order_from_the_editor_removes_the_painted_object(page, agent, screenshot):
    room = np.full((800, 1200, 3), (200, 196, 188), np.uint8)
    room[560:] = (140, 105, 70)
    noise = np.random.default_rng(5).normal(0, 5, room.shape)
    room = np.clip(room + noise, 0, 255).astype(np.uint8)
    room[420:640, 500:700] = (200, 30, 30)  # a red armchair
    photo = make_photo(make_project(agent), data=encoded(Image.fromarray(room), "PNG"))
    open_editor(page, agent, photo)
    set_brush(page, 90)
    for y in range(430, 640, 40):
        drag(page, (505, y), (695, y), steps=10)
    page.get_by_role("button", name="Order for 2 credits").click()
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()

    work_queue()

    expect(page.get_by_test_id("gallery")).to_be_visible(timeout=10_000)
    screenshot("editor-order-result")
    result = Order.objects.get().results.get()
    after = np.asarray(Image.open(result.full.open("rb")).convert("RGB")).astype(int)
    chair = after[430:630, 510:690]
    red = (chair[..., 0] > 150) & (chair[..., 1] < 80)
    assert red.mean() < 0.01, f"{red.mean():.1%} of the chair is still red"


def test_strokes_land_right_after_zooming_and_panning(page, agent):
    photo = make_photo(make_project(agent), data=jpeg_bytes((1200, 800)))
    open_editor(page, agent, photo)
    page.mouse.move(*to_screen(page, 600, 400))
    for _ in range(4):
        page.mouse.wheel(0, -100)  # zoom in around the middle
    page.keyboard.down("Space")
    page.mouse.move(*to_screen(page, 600, 400))
    page.mouse.down()
    page.mouse.move(*to_screen(page, 650, 420), steps=5)  # pan a little
    page.mouse.up()
    page.keyboard.up("Space")
    start, end = (560, 380), (660, 430)

    drag(page, start, end)

    assert page.evaluate("() => document.getElementById('board').style.transform").count(
        "scale(2.07"
    )
    assert matches(exported(page), expected_stroke((1200, 800), start, end, 40), tolerance=2)


def test_clear_and_loading_a_saved_mask_can_be_undone(page, agent):
    from maskeditor.services import mask_save

    photo = make_photo(make_project(agent), data=jpeg_bytes((1000, 700)))
    saved = np.zeros((700, 1000), bool)
    saved[50:150, 50:150] = True
    mask_save(photo=photo, painted=saved)
    open_editor(page, agent, photo)
    drag(page, (300, 500), (700, 500))

    page.get_by_role("button", name="Clear").click()
    assert exported(page) is None
    page.keyboard.press("Control+z")
    assert exported(page)[500, 500]

    page.get_by_label("Start from").select_option(label="mask 1 · " + saved_label(photo))
    page.wait_for_function("() => window.maskEditor.strokes.some((s) => s.image)")
    loaded = exported(page)
    assert loaded[100, 100] and not loaded[500, 500]
    page.keyboard.press("Control+z")
    restored = exported(page)
    assert restored[500, 500] and not restored[100, 100]


def saved_label(photo) -> str:
    mask = photo.masks.get()
    from django.utils import timezone

    return f"{timezone.localtime(mask.created_at):%-d %b %H:%M} · 1 % painted"


def test_a_refused_order_keeps_the_painting(page, agent):
    photo = make_photo(make_project(agent), data=jpeg_bytes((1000, 700)))
    open_editor(page, agent, photo)
    drag(page, (300, 350), (700, 350))
    agent.credits = 1
    agent.save()

    page.get_by_role("button", name="Order for 2 credits").click()

    expect(page.get_by_text("This edit costs 2 credits and you have 1.")).to_be_visible()
    page.wait_for_function("() => window.maskEditor.strokes.some((s) => s.image)")
    assert exported(page)[350, 500]
