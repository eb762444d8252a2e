"""An upload costs what its decoded pixels weigh: over budget, it is refused before decoding."""

from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from homedesign.projects.budget import user_decode_reserved
from homedesign.projects.models import DecodeReservation, Photo

from .factories import make_project
from .images import encoded, jpeg_bytes, png_claiming_size
from .test_photo_upload import JSON, upload

pytestmark = pytest.mark.django_db

MB = 1_000_000


def test_a_tiny_16_bit_file_that_decodes_huge_is_refused_before_decoding(
    agent_client, project, settings
):
    settings.PHOTO_DECODE_MAX_BYTES = 150 * MB
    bomb = png_claiming_size(10_000, 9_990, mode="I;16")  # 16-bit grey, under 100 bytes

    response = upload(agent_client, project, ("scan.png", bomb), **JSON)

    assert response.status_code == 400
    # Decoding it would have found it cut short: this is what the header alone showed.
    assert response.json()["error"] == (
        "scan.png would take 200 MB of memory to open (10,000 × 9,990 pixels, 16-bit grey); "
        "the limit is 150 MB. Export it at a smaller size, or as an 8-bit JPEG."
    )
    assert not Photo.objects.exists()


@pytest.mark.parametrize(
    ("mode", "label", "megabytes"),
    [("L", "8-bit grey", 50), ("LA", "grey with transparency", 200),
     ("RGB", "colour", 200), ("RGBA", "colour with transparency", 200)],
)  # fmt: skip
def test_the_cost_counts_bytes_per_pixel_with_alpha(
    agent_client, project, settings, mode, label, megabytes
):
    settings.PHOTO_DECODE_MAX_BYTES = 100 * MB
    claimed = png_claiming_size(10_000, 5_000, mode=mode)

    error = upload(agent_client, project, ("p.png", claimed), **JSON).json()["error"]

    if megabytes > 100:
        assert error.startswith(f"p.png would take {megabytes} MB of memory to open")
        assert f"pixels, {label})" in error
    else:  # within budget: decoding starts, and finds the file cut short
        assert error.startswith("p.png is damaged or incomplete")


def test_a_jpeg_costs_what_it_decodes_at_its_reduced_scale(agent_client, project, settings):
    """6000 × 4000 is read at half scale for a 2048 px display copy: 24 MB, not 96."""
    settings.PHOTO_DECODE_MAX_BYTES = 30 * MB

    response = upload(agent_client, project, ("big.jpg", jpeg_bytes((6000, 4000))), **JSON)

    assert response.status_code == 201
    assert (Photo.objects.get().width, Photo.objects.get().height) == (6000, 4000)


def test_a_users_uploads_at_once_share_one_budget(agent_client, project, agent, outsider, settings):
    settings.PHOTO_DECODE_USER_MAX_BYTES = 10 * MB
    photo = ("terrace.png", encoded(Image.new("RGBA", (1000, 1000)), "PNG"))

    with user_decode_reserved(user=agent, cost=7 * MB, name="other.png"):
        refused = upload(agent_client, project, photo, **JSON)
        # Someone else's uploads are not held up by it.
        agent_client.force_login(outsider)
        other = upload(agent_client, make_project(outsider), photo, **JSON)
        agent_client.force_login(agent)

    assert refused.json()["error"] == (
        "terrace.png needs 4 MB of memory to read, and your uploads in progress already use "
        "7 MB of your 10 MB. Upload it again once they are done."
    )
    assert other.status_code == 201
    assert upload(agent_client, project, photo, **JSON).status_code == 201
    assert not DecodeReservation.objects.exists()  # each upload gave its share back


def test_a_reservation_left_by_a_killed_process_stops_counting(agent_client, project, agent):
    DecodeReservation.objects.create(
        owner=agent, bytes=10**12, expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert upload(agent_client, project, ("room.jpg", jpeg_bytes()), **JSON).status_code == 201
