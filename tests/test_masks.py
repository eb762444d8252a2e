"""Mask checks and conversions: what the editor exports is accepted only exactly, and each
provider's convention is produced pixel for pixel."""

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from maskeditor import masks
from maskeditor.models import Mask

from .factories import mask_png
from .images import jpeg_bytes


def painted_sample() -> np.ndarray:
    painted = np.zeros((4, 5), bool)
    painted[1:3, 1:4] = True
    painted[0, 4] = True
    return painted


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def test_conversions_are_pixel_exact():
    painted = painted_sample()

    editor = pixels(masks.to_editor_png(painted))
    white = pixels(masks.to_white_on_black_png(painted))
    remover_rgba = pixels(masks.to_object_remover_png(painted))
    remover_grey = pixels(masks.to_object_remover_png(painted, mode="L"))

    assert np.array_equal(masks.to_binary(painted), np.where(painted, 255, 0))
    assert np.array_equal(editor[painted], np.tile([0x78, 0x78, 0xCD, 255], (painted.sum(), 1)))
    assert np.array_equal(editor[~painted], np.zeros(((~painted).sum(), 4)))
    assert np.array_equal(white, np.where(painted, 255, 0))
    assert np.array_equal(remover_rgba[..., 3], np.where(painted, 0, 255))  # alpha 0 = remove
    assert np.array_equal(remover_grey > 0, painted)  # > 0 = remove


def test_a_mask_survives_the_round_trip_through_the_editor_convention():
    painted = np.random.default_rng(1).random((300, 400)) > 0.7

    again = masks.read_mask(io.BytesIO(masks.to_editor_png(painted)), size=(400, 300))

    assert np.array_equal(again, painted)


def post_mask(client, photo, data: bytes):
    return client.post(
        reverse("maskeditor:mask_upload", args=[photo.pk]),
        {"mask": SimpleUploadedFile("mask.png", data, content_type="image/png")},
    )


def antialiased_mask() -> bytes:
    image = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    image.paste((0x78, 0x78, 0xCD, 255), (100, 100, 200, 200))
    image.putpixel((99, 150), (0x78, 0x78, 0xCD, 128))  # a soft edge pixel
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def other_colour_mask() -> bytes:
    image = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (100, 100, 200, 200))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def opaque_rgb_mask() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (0x78, 0x78, 0xCD)).save(buffer, "PNG")
    return buffer.getvalue()


def bomb_mask() -> bytes:
    from .images import png_claiming_size

    return png_claiming_size(30_000, 30_000)


def palette_mask() -> bytes:
    image = Image.new("P", (600, 400), 0)
    image.putpalette([0, 0, 0, 0x78, 0x78, 0xCD])
    image.paste(1, (100, 100, 200, 200))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    return buffer.getvalue()


def test_a_palette_png_of_the_two_colours_is_accepted(agent_client, photo):
    response = post_mask(agent_client, photo, palette_mask())

    assert response.status_code == 201
    assert Mask.objects.get().painted_share == pytest.approx(10_000 / 240_000)


def test_coverage_is_checked_for_the_service_before_storing(agent_client, photo):
    response = agent_client.post(
        reverse("maskeditor:mask_upload", args=[photo.pk]),
        {
            "mask": SimpleUploadedFile("m.png", mask_png((600, 400), (0, 0, 600, 300))),
            "service": "item_removal_mask",
        },
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith("The mask covers 75% of the photo")
    assert not Mask.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (jpeg_bytes((600, 400)), "The mask must be a PNG image, not JPEG."),
        (b"not an image", "The mask is not a readable PNG image."),
        (
            mask_png((400, 600), (0, 0, 10, 10)),
            "The mask is 400 × 600 pixels but the photo is 600 × 400",
        ),
        (mask_png((600, 400), (0, 0, 0, 0)), "The mask is empty: paint the area to edit."),
        (antialiased_mask(), "1 pixels of the mask are neither the brush colour"),
        (other_colour_mask(), "10,000 pixels of the mask are neither the brush colour"),
        (opaque_rgb_mask(), "The mask has no transparency (it is RGB)"),
        (bomb_mask(), "The mask is far larger than the photo; it must be exactly 600 × 400."),
        (b"\x89PNG" + b"\0" * (masks.MAX_MASK_BYTES + 1), "The mask file is larger than 20 MB"),
    ],
)
def test_bad_masks_are_refused_with_a_clear_message(agent_client, photo, data, message):
    response = post_mask(agent_client, photo, data)

    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    assert not Mask.objects.exists()


def test_a_good_mask_is_stored_as_the_next_version(agent_client, photo):
    first = post_mask(agent_client, photo, mask_png((600, 400), (10, 10, 60, 60)))
    second = post_mask(agent_client, photo, mask_png((600, 400), (100, 100, 300, 200)))

    assert (first.status_code, second.status_code) == (201, 201)
    assert [m.version for m in Mask.objects.order_by("version")] == [1, 2]
    stored = agent_client.get(second.json()["url"])
    assert stored["Content-Type"] == "image/png"
    assert np.all(pixels(b"".join(stored.streaming_content))[150, 200] == (0x78, 0x78, 0xCD, 255))


def test_a_mask_without_a_file_part_is_refused(agent_client, photo):
    response = agent_client.post(reverse("maskeditor:mask_upload", args=[photo.pk]))

    assert response.status_code == 400
    assert response.json()["error"] == "No mask was sent. Paint the area, then try again."


def test_outsider_and_logged_out_cannot_upload_or_read_masks(client, outsider, agent, photo):
    from maskeditor.services import mask_save

    mask = mask_save(photo=photo, painted=np.ones((400, 600), bool))
    client.force_login(outsider)
    assert post_mask(client, photo, mask_png((600, 400), (0, 0, 5, 5))).status_code == 404
    assert client.get(mask.get_file_url()).status_code == 404
    client.logout()
    assert post_mask(client, photo, mask_png((600, 400), (0, 0, 5, 5))).status_code == 302
    assert client.get(mask.get_file_url()).status_code == 302
    assert Mask.objects.count() == 1


def test_the_mask_upload_needs_csrf(photo, agent):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)

    assert post_mask(strict, photo, mask_png((600, 400), (0, 0, 5, 5))).status_code == 403
