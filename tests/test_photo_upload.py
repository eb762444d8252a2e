import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from homedesign.projects.models import Photo

from .images import (
    BLUE,
    RED,
    encoded,
    heic_bytes,
    jpeg_bytes,
    jpeg_with_icc,
    malformed_exif_jpeg,
    open_image,
    png_bytes,
    png_claiming_size,
    two_band_image,
    webp_bytes,
)

JSON = {"HTTP_ACCEPT": "application/json"}


def upload(client, project, *files: tuple[str, bytes], **extra):
    payload = [SimpleUploadedFile(name, data) for name, data in files]
    return client.post(
        reverse("projects:photo_upload", args=[project.pk]), {"photos": payload}, **extra
    )


def stored(field) -> bytes:
    with field.open("rb") as f:
        return f.read()


def close_to(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


@pytest.mark.parametrize(
    ("name", "data", "format", "size"),
    [
        ("front.jpg", jpeg_bytes((600, 400)), "JPEG", (600, 400)),
        ("plan.png", png_bytes((500, 300)), "PNG", (500, 300)),
        ("garden.webp", webp_bytes((480, 320)), "WEBP", (480, 320)),
        ("kitchen.HEIC", heic_bytes((480, 320)), "HEIF", (480, 320)),
    ],
)
def test_each_accepted_format_is_stored_with_its_facts(
    agent_client, project, name, data, format, size
):
    response = upload(agent_client, project, (name, data), **JSON)

    assert response.status_code == 201
    photo = Photo.objects.get(project=project)
    assert response.json()["photos"][0]["id"] == str(photo.pk)
    assert (photo.original_name, photo.format) == (name, format)
    assert (photo.width, photo.height) == size
    assert photo.byte_size == len(data)
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert stored(photo.original) == data  # byte for byte


def test_exif_orientation_is_applied_to_size_and_served_copies(agent_client, project):
    # Stored sideways (600 × 400) with "rotate 90° clockwise to view": upright it is 400 × 600,
    # with the red band, which was on the left, now on top.
    sideways = two_band_image((400, 600)).rotate(90, expand=True)
    data = jpeg_bytes(image=sideways, orientation=6)

    upload(agent_client, project, ("portrait.jpg", data), **JSON)

    photo = Photo.objects.get()
    assert (photo.width, photo.height) == (400, 600)
    for field in (photo.display, photo.thumbnail):
        image = open_image(stored(field))
        assert image.height > image.width
        assert close_to(image.getpixel((image.width // 2, image.height // 8)), RED)
        assert close_to(image.getpixel((image.width // 2, image.height * 7 // 8)), BLUE)


def test_served_copies_carry_no_exif_gps_or_comment(agent_client, project):
    data = jpeg_bytes(gps=True, comment=b"12 Rue des Lilas, Lyon")
    assert b"Rue des Lilas" in data

    upload(agent_client, project, ("with-gps.jpg", data), **JSON)

    photo = Photo.objects.get()
    for field in (photo.display, photo.thumbnail):
        raw = stored(field)
        image = open_image(raw)
        assert not image.getexif()
        assert "comment" not in image.info and "exif" not in image.info
        assert b"Rue des Lilas" not in raw and b"PhoneMaker" not in raw


def test_served_copies_fit_their_boxes(agent_client, project):
    upload(agent_client, project, ("big.jpg", jpeg_bytes((5000, 2500), quality=70)), **JSON)

    photo = Photo.objects.get()
    assert (photo.width, photo.height) == (5000, 2500)
    assert open_image(stored(photo.display)).size == (2048, 1024)
    assert open_image(stored(photo.thumbnail)).size == (400, 200)


def test_transparent_png_keeps_its_transparency(agent_client, project):
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((200, 40, 40, 255), (50, 50, 250, 150))
    upload(agent_client, project, ("cutout.png", encoded(image, "PNG")), **JSON)

    display = open_image(stored(Photo.objects.get().display))
    assert display.mode == "RGBA"
    assert display.getpixel((0, 0))[3] == 0


def truncated_jpeg() -> bytes:
    data = jpeg_bytes((800, 600))
    return data[: len(data) // 2]


def corrupt_jpeg() -> bytes:
    data = bytearray(jpeg_bytes((800, 600)))
    data[20:400] = b"\x00" * 380  # tables and frame header wiped
    return bytes(data)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.jpg", b"", "empty.jpg is empty (0 bytes)"),
        ("cut.jpg", truncated_jpeg(), "cut.jpg is damaged or incomplete"),
        ("broken.jpg", corrupt_jpeg(), "broken.jpg is damaged or incomplete"),
        ("notes.txt", b"Viewing on Tuesday at 10am", "notes.txt is not a photo we can read"),
        ("invoice.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "invoice.pdf is not a photo"),
        (
            "photo.jpg",
            b"<html><script>alert(1)</script></html>",
            "photo.jpg is named like a JPEG photo but is not an image at all",
        ),
        ("banner.gif", encoded(two_band_image(), "GIF"), "banner.gif is a GIF image"),
        ("bomb.png", png_claiming_size(30_000, 30_000), "bomb.png has too many pixels"),
    ],
)
def test_bad_upload_gets_its_own_clear_message(agent_client, project, name, data, expected):
    response = upload(agent_client, project, (name, data), **JSON)

    assert response.status_code == 400
    assert response.json()["error"].startswith(expected)
    assert not Photo.objects.exists()


def test_file_over_the_size_limit_is_refused(agent_client, project, settings):
    settings.PHOTO_MAX_BYTES = 10_000
    response = upload(agent_client, project, ("huge.jpg", jpeg_bytes((1600, 1200))), **JSON)

    assert response.status_code == 400
    assert "huge.jpg is" in response.json()["error"]
    assert "the limit is 9.8\xa0KB" in response.json()["error"]


def test_photo_over_the_pixel_limit_is_refused(agent_client, project, settings):
    settings.PHOTO_MAX_PIXELS = 200_000
    response = upload(agent_client, project, ("wide.png", png_bytes((1000, 400))), **JSON)

    assert response.status_code == 400
    assert response.json()["error"] == (
        "wide.png has too many pixels (1,000 × 400 = 0.4 megapixels); the limit is "
        "0.2 megapixels. Export it at a smaller size."
    )


def test_a_bad_file_does_not_stop_the_others(agent_client, project):
    response = upload(
        agent_client,
        project,
        ("kitchen.jpg", jpeg_bytes()),
        ("broken.jpg", truncated_jpeg()),
        ("plan.png", png_bytes()),
    )

    assert response.status_code == 302
    assert sorted(Photo.objects.values_list("original_name", flat=True)) == [
        "kitchen.jpg",
        "plan.png",
    ]
    page = agent_client.get(response.url)
    assert "2 photos uploaded." in page.text
    assert "broken.jpg is damaged or incomplete" in page.text


def test_png_named_jpg_is_stored_as_png(agent_client, project):
    upload(agent_client, project, ("scan.jpg", png_bytes()), **JSON)

    photo = Photo.objects.get()
    assert photo.format == "PNG"
    assert photo.original.name.endswith("/original.png")
    assert photo.original_name == "scan.jpg"


def test_upload_without_files_asks_for_some(agent_client, project):
    response = agent_client.post(reverse("projects:photo_upload", args=[project.pk]), **JSON)

    assert response.status_code == 400
    assert response.json() == {"error": "Choose one or more photos to upload."}


def test_outsider_cannot_upload_into_a_project(outsider_client, project):
    response = upload(outsider_client, project, ("x.jpg", jpeg_bytes()), **JSON)

    assert response.status_code == 404
    assert not Photo.objects.exists()


def test_logged_out_upload_is_sent_to_login(client, project):
    response = upload(client, project, ("x.jpg", jpeg_bytes()))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not Photo.objects.exists()


def test_upload_needs_post(agent_client, project):
    response = agent_client.get(reverse("projects:photo_upload", args=[project.pk]))

    assert response.status_code == 405


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # Pillow's own notes
def test_malformed_exif_does_not_cost_the_photo(agent_client, project):
    data = malformed_exif_jpeg()
    with pytest.raises(Exception):  # noqa: B017 - the sample must still break Pillow's helper
        ImageOps.exif_transpose(open_image(data))

    response = upload(agent_client, project, ("camera.jpg", data), **JSON)

    assert response.status_code == 201
    # Its orientation tag (6) still reads, so the photo is turned upright all the same.
    assert (Photo.objects.get().width, Photo.objects.get().height) == (48, 64)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_made_upright(agent_client, project, orientation):
    # An upright 300 × 200 picture, red on top, stored the way a camera with this orientation
    # tag stores it; applying the tag must give the upright picture back.
    upright = two_band_image((300, 200))
    inverse = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    stored_way = upright.transpose(inverse[orientation]) if orientation > 1 else upright

    upload(
        agent_client,
        project,
        ("o.jpg", jpeg_bytes(image=stored_way, orientation=orientation)),
        **JSON,
    )

    photo = Photo.objects.get()
    assert (photo.width, photo.height) == (300, 200)
    display = open_image(stored(photo.display))
    assert display.size == (300, 200)
    assert close_to(display.getpixel((150, 20)), RED)
    assert close_to(display.getpixel((150, 180)), BLUE)


def test_colour_profile_is_applied_and_not_copied(agent_client, project):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    padded = srgb + b"12 Rue des Lilas, Lyon" + b"\0" * 2_000_000  # text and bulk in the profile

    upload(agent_client, project, ("profiled.jpg", jpeg_with_icc(padded)), **JSON)

    photo = Photo.objects.get()
    for field in (photo.display, photo.thumbnail):
        raw = stored(field)
        assert b"Rue des Lilas" not in raw
        assert "icc_profile" not in open_image(raw).info
        assert len(raw) < 50_000


def test_png_and_webp_metadata_is_not_copied(agent_client, project):
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "12 Rue des Lilas, Lyon")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>Rue des Lilas</x:xmpmeta>")
    png = encoded(two_band_image(), "PNG", pnginfo=info)
    exif = Image.Exif()
    exif[0x010E] = "Rue des Lilas"
    webp = encoded(two_band_image(), "WEBP", exif=exif.tobytes(), xmp=b"<x>Rue des Lilas</x>")

    upload(agent_client, project, ("a.png", png), ("b.webp", webp))

    for photo in Photo.objects.all():
        for field in (photo.display, photo.thumbnail):
            assert b"Rue des Lilas" not in stored(field)


@pytest.mark.parametrize(
    ("name", "image", "mode"),
    [
        ("cmyk.jpg", two_band_image().convert("CMYK"), "RGB"),
        ("sixteen.png", Image.new("I;16", (300, 200), 40000), "RGB"),
        ("grey-alpha.png", Image.new("LA", (300, 200), (128, 100)), "RGBA"),
        ("palette.png", Image.new("P", (300, 200), 0), "RGBA"),
    ],
)
def test_unusual_image_modes_make_ordinary_copies(agent_client, project, name, image, mode):
    options = {"transparency": 0} if image.mode == "P" else {}
    data = encoded(image, "JPEG" if name.endswith(".jpg") else "PNG", **options)

    response = upload(agent_client, project, (name, data), **JSON)

    assert response.status_code == 201
    assert open_image(stored(Photo.objects.get().display)).mode == mode


def test_sixteen_bit_values_are_scaled_not_clipped(agent_client, project):
    upload(
        agent_client,
        project,
        ("grey.png", encoded(Image.new("I;16", (64, 64), 32768), "PNG")),
        **JSON,
    )

    assert 120 <= open_image(stored(Photo.objects.get().display)).getpixel((5, 5))[0] <= 135


def test_a_video_named_heic_is_not_called_a_damaged_photo(agent_client, project):
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64

    response = upload(agent_client, project, ("clip.heic", mp4), **JSON)

    assert response.json()["error"].startswith("clip.heic is named like a HEIC photo but is not")


def test_json_reply_lists_saved_photos_beside_the_errors(agent_client, project):
    response = upload(
        agent_client, project, ("good.jpg", jpeg_bytes()), ("bad.jpg", b"nope"), **JSON
    )

    assert response.status_code == 400
    assert [p["name"] for p in response.json()["photos"]] == ["good.jpg"]
    assert "bad.jpg" in response.json()["error"]
