"""The local engine does real image processing: each test checks the effect an agent
would look for, on synthetic scenes whose right answer is known."""

import cv2
import numpy as np
import patchmatch
import pytest

from homedesign.projects.models import Photo
from orders.models import Order
from orders.providers.base import ProviderError
from orders.providers.local import LocalProvider
from orders.providers.local.background import remove_background
from orders.providers.local.dusk import day_to_dusk
from orders.providers.local.enhance import enhance
from orders.providers.local.inpaint import remove_painted
from orders.providers.local.upscale import upscale


def textured_room(height=600, width=900, seed=3) -> np.ndarray:
    """A wall with fine texture above a striped wooden floor."""
    rng = np.random.default_rng(seed)
    room = np.empty((height, width, 3), np.uint8)
    room[: height * 2 // 3] = (200, 196, 188)
    stripes = (np.arange(width) // 30 % 2 * 25 + 120).astype(np.uint8)
    room[height * 2 // 3 :] = np.stack([stripes, stripes * 0.8, stripes * 0.6], -1).astype(np.uint8)
    noise = rng.normal(0, 6, room.shape)
    return np.clip(room + noise, 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255**2 / mse)


def test_enhancement_removes_a_colour_cast_and_sharpens():
    room = textured_room()
    blue_cast = np.clip(room * np.array([0.9, 0.97, 1.08]), 0, 255).astype(np.uint8)

    out = enhance(blue_cast, scene="indoor", white_balance=True, local_contrast=True, sharpen=True)

    wall_before = blue_cast[:300].reshape(-1, 3).mean(axis=0)
    wall_after = out[:300].reshape(-1, 3).mean(axis=0)
    assert out.shape == room.shape
    assert np.ptp(wall_after) < np.ptp(wall_before) * 0.6  # channels closer together
    edges = lambda img: cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()  # noqa: E731
    assert edges(out) > edges(blue_cast)


def test_day_to_dusk_paints_the_sky_and_darkens_the_ground():
    scene = np.empty((400, 600, 3), np.uint8)
    scene[:160] = (120, 170, 235)  # blue sky
    scene[160:] = (90, 140, 70)  # lawn
    scene[100:300, 200:400] = (210, 190, 160)  # a house in front of the sky

    out = day_to_dusk(scene, sky_style="golden_hour", remove_shadows=False)

    top, horizon, lawn, house = out[5, 20], out[150, 20], out[350, 20], out[250, 300]
    assert top[2] > top[0] and top.sum() < 300  # a dark blue zenith
    assert horizon[0] > horizon[2] and horizon[0] > 200  # a warm band at the horizon
    assert lawn.sum() < scene[350, 20].astype(int).sum() * 0.7  # the ground is in evening light
    assert abs(int(house[0]) - int(house[2])) > 20  # the house is relit, not painted as sky
    assert house.sum() < scene[250, 300].astype(int).sum()


def test_painted_furniture_is_removed_with_patchmatch_better_than_diffusion():
    patchmatch.set_random_seed(7)
    truth = textured_room()
    scene = truth.copy()
    scene[330:500, 380:560] = (40, 90, 160)  # a blue armchair on wall and floor
    mask = np.zeros(truth.shape[:2], bool)
    mask[325:505, 375:565] = True

    out = remove_painted(scene, mask)
    telea = cv2.inpaint(scene, mask.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)

    hole = mask
    assert not np.any(np.all(np.abs(out[hole].astype(int) - (40, 90, 160)) < 30, axis=1))
    assert psnr(out[hole], truth[hole]) > psnr(telea[hole], truth[hole])
    far_away = ~cv2.dilate(mask.astype(np.uint8), np.ones((25, 25))).astype(bool)
    assert np.array_equal(out[far_away], scene[far_away])  # the rest of the photo is untouched


def test_a_thin_stroke_is_filled_by_diffusion():
    scene = textured_room()
    scene[300:303, 100:800] = (0, 0, 0)  # a cable across the wall
    mask = np.zeros(scene.shape[:2], bool)
    mask[300:303, 100:800] = True

    out = remove_painted(scene, mask)

    assert out[301, 100:800].mean() > 150  # the black cable is gone
    assert np.array_equal(out[:280], scene[:280])


def test_background_removal_keeps_the_subject_and_clears_the_surroundings():
    scene = np.full((480, 640, 3), (235, 235, 240), np.uint8)
    cv2.circle(scene, (320, 250), 150, (160, 60, 40), -1)

    out = remove_background(scene)

    assert out.shape == (480, 640, 4)
    assert out[250, 320, 3] == 255
    assert out[10, 10, 3] == 0 and out[470, 630, 3] == 0
    assert np.array_equal(out[..., :3], scene)


def test_background_removal_refuses_a_photo_with_no_subject():
    with pytest.raises(ProviderError, match="No clear subject"):
        remove_background(np.full((300, 400, 3), 128, np.uint8))


def test_upscale_doubles_and_respects_the_size_cap():
    small = textured_room(100, 150)

    doubled, used = upscale(small, scale=2, max_pixels=1_000_000)
    capped, capped_scale = upscale(small, scale=4, max_pixels=100_000)

    assert doubled.shape == (200, 300, 3) and used == 2
    assert capped.shape[0] * capped.shape[1] <= 100_000 and 2 < capped_scale < 2.6
    with pytest.raises(ProviderError, match="would exceed"):
        upscale(small, scale=2, max_pixels=16_000)


def lamp_lit_room(height=480, width=640) -> np.ndarray:
    """A room lit warm on purpose: cream walls under a lamp, a wooden floor, a white door."""
    room = textured_room(height, width)
    warm = np.clip(room * np.array([1.0, 0.86, 0.66]), 0, 255).astype(np.uint8)
    warm[60:300, 420:520] = (240, 222, 190)  # the door, lamp-lit
    return warm


def test_enhancement_keeps_a_lamp_lit_room_warm():
    room = lamp_lit_room()

    out = enhance(room, scene="indoor", white_balance=True, local_contrast=False, sharpen=False)

    red_over_blue = lambda img: img[..., 0].mean() / img[..., 2].mean()  # noqa: E731
    assert red_over_blue(out) > 0.95 * red_over_blue(room)


def test_enhancement_strength_scales_the_effect():
    room = textured_room()
    options = {"scene": "indoor", "white_balance": False, "local_contrast": True, "sharpen": True}

    gentle = enhance(room, **options, strength=20)
    strong = enhance(room, **options, strength=100)

    change = lambda img: np.abs(img.astype(int) - room).mean()  # noqa: E731
    assert 0 < change(gentle) < change(strong)
    assert np.array_equal(enhance(room, **options, strength=0), room)


def test_day_to_dusk_keeps_a_cream_facade_that_reaches_the_top_of_the_photo():
    """The drawn house of the issue: a pale facade touching the top edge is not sky."""
    scene = np.empty((480, 640, 3), np.uint8)
    scene[:] = (110, 160, 225)  # blue sky
    scene[:, 300:] = (232, 224, 205)  # cream facade from the top of the frame down
    for top in range(40, 400, 90):  # rows of dark windows
        for left in range(330, 620, 70):
            scene[top : top + 50, left : left + 35] = (60, 70, 80)
    scene[400:] = (90, 140, 70)  # lawn

    out = day_to_dusk(scene, sky_style="blue_hour", remove_shadows=False)

    wall = out[20:35, 400:420].reshape(-1, 3).mean(axis=0)
    sky = out[20:35, 100:120].reshape(-1, 3).mean(axis=0)
    assert wall[0] >= wall[2] - 10  # still a cream wall, relit, not painted blue
    assert sky[2] > sky[0] + 30 and sky.sum() < 350  # the sky is a dusk blue
    window = out[60:80, 340:355].reshape(-1, 3).mean(axis=0)
    assert window[0] > 150 and window[0] > window[2] + 60  # windows glow warm


def test_upscale_gives_back_the_photo_when_shrunk_again_across_its_tiles():
    small = textured_room(1100, 1300)  # several tiles of back-projection

    large, used = upscale(small, scale=2, max_pixels=10_000_000)

    lanczos = cv2.resize(small, (2600, 2200), interpolation=cv2.INTER_LANCZOS4)
    error = lambda img: np.abs(  # noqa: E731
        cv2.resize(img, (1300, 1100), interpolation=cv2.INTER_AREA).astype(int) - small
    ).mean()
    assert used == 2 and large.shape == (2200, 2600, 3)
    assert error(large) < 0.7 * error(lanczos)
    # No seam where tiles meet (row 1024 = 512 × 2): that step is like any other.
    steps = np.abs(np.diff(large[:, :, 1].astype(int), axis=0)).mean(axis=1)
    assert steps[1023] < 3 * np.median(steps[900:1200])


def sky_over(
    height: int,
    width: int,
    *,
    top: tuple[int, int, int] = (70, 120, 215),
    horizon: tuple[int, int, int] = (175, 200, 230),
) -> np.ndarray:
    """A clear sky, deep blue at the top and paler toward the horizon, with a camera's noise."""
    rng = np.random.default_rng(5)
    t = np.linspace(0, 1, height)[:, None, None]
    sky = (1 - t) * np.array(top) + t * np.array(horizon)
    sky = np.broadcast_to(sky, (height, width, 3)) + rng.normal(0, 1.5, (height, width, 3))
    return np.clip(sky, 0, 255).astype(np.uint8)


def test_day_to_dusk_leaves_a_tree_against_the_sky_as_it_was_lit():
    rng = np.random.default_rng(7)
    scene = sky_over(480, 640)
    scene[400:] = (90, 140, 70)  # lawn
    crown = np.zeros((480, 640), np.uint8)
    cv2.circle(crown, (320, 200), 110, 1, -1)
    cv2.rectangle(crown, (305, 300), (335, 400), 1, -1)  # trunk
    leaves = rng.normal(0, 22, (480, 640, 1)) + np.array([60, 105, 45])  # dark, ragged foliage
    scene[crown > 0] = np.clip(leaves, 0, 255).astype(np.uint8)[crown > 0]

    out = day_to_dusk(scene, sky_style="blue_hour", remove_shadows=False)

    inside = cv2.erode(crown, np.ones((5, 5), np.uint8)) > 0  # a pixel or two of edge may blend
    tree = out[inside].astype(int)
    painted = (tree[:, 2] > tree[:, 1] + 10).mean()  # blue-hour sky is blue, leaves are green
    assert painted < 0.02
    sky = out[10:60, 20:100].reshape(-1, 3).mean(axis=0)
    assert sky[2] > sky[0] + 30 and sky.sum() < 350  # while the sky around it is repainted


def test_day_to_dusk_leaves_a_hazy_shore_below_the_sky():
    """Haze over a distant shore is as pale as the sky at the horizon, but not as smooth:
    roofs and trees show through it (the Summer Palace photo of the bench)."""
    rng = np.random.default_rng(11)
    scene = sky_over(480, 640, top=(120, 165, 225), horizon=(228, 230, 234))
    haze = np.array([196, 203, 208])
    scene[200:240] = np.clip(haze + rng.normal(0, 3, (40, 640, 3)), 0, 255).astype(np.uint8)
    for left in range(0, 640, 9):  # faint roofs and trees in the haze
        top = 240 - int(rng.integers(8, 36))
        scene[top:240, left : left + int(rng.integers(3, 8))] = haze - rng.integers(10, 22)
    scene[240:] = (150, 170, 175)  # water

    out = day_to_dusk(scene, sky_style="golden_hour", remove_shadows=False)

    band = out[205:238].reshape(-1, 3).astype(int)
    painted = (band[:, 0] > band[:, 2] + 30).mean()  # the golden horizon is orange, haze blue
    assert painted < 0.02
    above = out[170:195].reshape(-1, 3).mean(axis=0)
    assert above[0] > above[2] + 30  # while the sky just above it is painted golden


def _estimate(service: str, width: int, height: int, **options) -> int:
    photo = Photo(width=width, height=height)
    return LocalProvider().estimate_seconds(Order(photo=photo, service=service, options=options))


def test_removal_time_estimate_grows_less_than_the_photo():
    # PatchMatch works on a crop capped in size, whatever the photo's: only decoding,
    # copying and encoding grow with it.
    sizes = ((4000, 3000), (8660, 5774))  # 12 and 50 MP
    small, large = (_estimate("item_removal_mask", w, h) for w, h in sizes)
    dusk_small, dusk_large = (_estimate("day_to_dusk", w, h) for w, h in sizes)
    assert large < 2 * small
    assert dusk_large > 3 * dusk_small  # a service working on every pixel


def test_upscale_time_estimate_counts_the_scale_the_photo_really_gets(settings):
    settings.UPSCALE_MAX_PIXELS = 64_000_000
    # 48 MP asked 2× is capped to 64 MP: a third more pixels, not four times as many.
    capped = _estimate("upscale", 8000, 6000, scale=2)
    free = _estimate("upscale", 4000, 3000, scale=2)  # 12 MP -> 48 MP, as asked
    assert capped < free * 1.6
    assert _estimate("upscale", 4000, 3000, scale=4) > free
