"""Results as a listing receives them: captions, disclosure labels, metadata, sizes."""

import io
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from PIL import Image

from homedesign.projects.models import Project
from orders import delivery
from orders.catalog import SERVICES, get_service, result_caption
from orders.models import Rendition
from orders.providers.base import result_image
from orders.tasks import run_order_task

from .factories import make_finished_order, make_order, make_photo
from .images import jpeg_bytes

SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
GREY = (150, 150, 150)


@pytest.fixture
def photo(project):
    return make_photo(project, data=jpeg_bytes((640, 480), gps=True))


@pytest.fixture
def staged(photo):
    return make_finished_order(
        photo, service="virtual_staging", room_type="living_room", style="scandinavian"
    )


def read(rendition: Rendition) -> Image.Image:
    with rendition.file.open("rb") as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


def xmp_of(image: Image.Image) -> dict:
    return image.getxmp()["xmpmeta"]["RDF"]["Description"]


def exiftool(path) -> dict:
    assert shutil.which("exiftool"), "exiftool is needed: make test installs it"
    if isinstance(path, FieldFile):  # on disk or in a bucket: exiftool reads a local copy
        with tempfile.NamedTemporaryFile(suffix=Path(path.name).suffix) as copy:
            with path.open("rb") as file:
                shutil.copyfileobj(file, copy)
            copy.flush()
            return exiftool(copy.name)
    output = subprocess.run(
        ["exiftool", "-j", "-G1", "-a", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output)[0]


def corner_is_dark(image: Image.Image, corner: str) -> bool:
    """The label's plate: dark pixels near that corner of an otherwise grey picture."""
    rgb = np.asarray(image.convert("RGB")).astype(int)
    height, width = rgb.shape[:2]
    h, w = height // 8, width // 4
    rows = slice(0, h) if corner.startswith("top") else slice(height - h, height)
    cols = slice(0, w) if corner.endswith("left") else slice(width - w, width)
    return bool((rgb[rows, cols].sum(axis=2) < 200).any())


def test_every_service_says_how_its_results_are_disclosed_and_made():
    assert get_service("virtual_staging").disclosure == "Virtually staged"
    assert get_service("image_enhancement").disclosure == ""  # an enhanced room is the room
    defaults = {key for key, service in SERVICES.items() if service.label_by_default}
    assert defaults == {
        "virtual_staging", "interior_design", "item_removal", "item_removal_mask",
        "declutter", "exterior_creation",
    }  # fmt: skip
    assert all(s.label_by_default <= bool(s.disclosure) for s in SERVICES.values())
    terms = {"algorithmicallyEnhanced", "compositeCapture", "compositeSynthetic",
             "compositeWithTrainedAlgorithmicMedia"}  # fmt: skip
    assert {s.source_type for s in SERVICES.values()} | {
        s.local_source_type for s in SERVICES.values()
    } <= terms


def test_results_are_named_by_what_they_are():
    staging = get_service("virtual_staging")
    caption = result_caption(staging, {"room_type": "living_room", "style": "scandinavian"})
    assert caption == "Virtually staged · Scandinavian living room"
    assert result_caption(get_service("day_to_dusk"), {"sky_style": "blue_hour"}) == (
        "Digitally altered · Blue hour"
    )
    assert result_caption(get_service("image_enhancement"), {}) == "Image enhancement · Indoor"
    assert result_caption(get_service("item_removal"), {}) == "Items digitally removed"
    assert result_caption(get_service("upscale"), {"scale": "4"}) == "Upscale · 4×"


def test_gallery_order_page_and_download_use_the_caption(agent_client, staged):
    result = staged.results.get()
    gallery = agent_client.get(reverse("orders:project_gallery", args=[staged.photo.project_id]))
    detail = agent_client.get(staged.get_absolute_url())

    for page in (gallery.text, detail.text):
        assert "Virtually staged · Scandinavian living room" in page
        assert "Result 1" not in page
    download = agent_client.get(reverse("orders:result_download", args=[result.pk, "mls"]))
    assert 'filename="01-living-room-virtually-staged-mls.jpg"' in download["Content-Disposition"]


def test_a_finished_order_is_delivered_in_every_size_with_metadata(staged):
    result = staged.results.get()
    # Staging is labelled by default, in the listing's corner (bottom right, clear of the
    # "before" side of the comparison, unless changed).
    renditions = {r.kind: r for r in result.renditions.all()}
    assert set(renditions) == {"full", "mls", "web"}
    assert {r.label for r in renditions.values()} == {"bottom_right"}
    for rendition in renditions.values():
        image = read(rendition)
        assert image.format == "JPEG"
        xmp = xmp_of(image)
        assert xmp["DigitalSourceType"] == SOURCE + "compositeWithTrainedAlgorithmicMedia"
        assert xmp["Service"] == "Virtual staging"
        assert xmp["Provider"] == "AI HomeDesign"
        assert xmp["CreateDate"].startswith(str(staged.finished_at.year))
        description = xmp["description"]["Alt"]["li"]["text"]
        assert description.startswith("Virtually staged · Scandinavian living room. ")
        assert description.count("Virtually staged") == 1  # the disclosure, said once
        assert "Virtual staging by AI HomeDesign" in description
        # No EXIF of the original: not its GPS, not its camera.
        assert not image.getexif()
        assert corner_is_dark(image, "bottom_right")
        assert not corner_is_dark(image, "top_left")


def test_exiftool_reads_what_every_format_says(photo, settings):
    staged = make_finished_order(photo, service="virtual_staging")
    # A cut-out with real transparency is delivered as PNG and as a JPEG on white.
    pixels = np.zeros((120, 160, 4), np.uint8)
    pixels[20:100, 40:120] = (200, 60, 60, 255)
    transparent = make_finished_order(
        photo, service="background_removal", provider="local", images=[result_image(pixels)]
    )
    renditions = [
        *staged.results.get().renditions.all(),
        *transparent.results.get().renditions.all(),
    ]
    kinds = {(r.result.order.service, r.kind, r.extension) for r in renditions}
    assert ("background_removal", "full", "png") in kinds
    assert ("background_removal", "full_white", "jpg") in kinds

    for rendition in renditions:
        tags = exiftool(rendition.file)
        expected = "compositeWithTrainedAlgorithmicMedia"
        if rendition.result.order.service == "background_removal":
            expected = "algorithmicallyEnhanced"
        assert tags["XMP-iptcExt:DigitalSourceType"] == SOURCE + expected, tags
        assert tags["XMP-xmp:CreatorTool"] == "homedesign"
        assert tags["XMP-homedesign:Service"] == rendition.result.order.service_info.label
        assert tags["XMP-homedesign:Provider"]
        assert tags["XMP-xmp:CreateDate"]
        disclosure = rendition.result.order.service_info.disclosure
        head = disclosure or rendition.result.order.service_info.label
        assert tags["XMP-dc:Description"].count(head) == 1, tags["XMP-dc:Description"]
        assert tags["XMP-dc:Title"] == rendition.result.caption
        assert not [tag for tag in tags if tag.startswith(("GPS", "EXIF", "IFD0", "Composite:GPS"))]


def test_local_classical_edits_say_so(photo):
    """PatchMatch copies the photo's own pixels; the local dusk sky is synthetic."""
    run = make_order(photo, service="day_to_dusk")
    run_order_task.call(order_id=str(run.pk))
    rendition = run.results.get().renditions.get(kind="web")
    assert xmp_of(read(rendition))["DigitalSourceType"] == SOURCE + "compositeSynthetic"
    assert rendition.label == ""  # dusk is disclosed in metadata, labelled only if asked


def test_label_goes_where_the_listing_wants_it_and_nowhere_when_off(photo, staged):
    project = photo.project
    for mode, corner in (("all", "top_right"), ("off", "top_right")):
        Project.objects.filter(pk=project.pk).update(label_mode=mode, label_corner=corner)
        project.refresh_from_db()
        result = staged.results.select_related("order__photo__project").get()
        delivery.results_deliver([result])
        rendition = delivery.rendition_for(result, "mls", project)
        image = read(rendition)
        if mode == "off":
            assert rendition.label == ""
            assert not any(corner_is_dark(image, c) for c in
                           ("top_left", "top_right", "bottom_left", "bottom_right"))  # fmt: skip
        else:
            assert rendition.label == "top_right"
            assert corner_is_dark(image, "top_right")
            assert not corner_is_dark(image, "bottom_left")


def test_label_choice_is_remembered_per_project_and_redelivers(
    agent_client, staged, django_capture_on_commit_callbacks
):
    project = staged.photo.project
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = agent_client.post(
            reverse("orders:project_label", args=[project.pk]),
            {"label_mode": "all", "label_corner": "top_left"},
        )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.label_mode, project.label_corner) == ("all", "top_left")
    assert callbacks  # the worker makes the files with the new label
    result = staged.results.get()
    assert delivery.rendition_for(result, "mls", project) is None
    download = agent_client.get(reverse("orders:result_download", args=[result.pk, "mls"]))
    assert download.status_code == 503  # being prepared, not made in the request

    delivery.results_deliver(delivery.project_results(project))
    download = agent_client.get(reverse("orders:result_download", args=[result.pk, "mls"]))
    assert download.status_code == 200
    image = Image.open(io.BytesIO(b"".join(download.streaming_content)))
    assert corner_is_dark(image, "top_left")


def test_a_bad_label_choice_is_refused(agent_client, staged):
    project = staged.photo.project
    response = agent_client.post(
        reverse("orders:project_label", args=[project.pk]),
        {"label_mode": "sometimes", "label_corner": "middle"},
    )
    assert response.status_code == 400
    project.refresh_from_db()
    assert project.label_mode == "recommended"


def test_sizes_stay_within_their_limits(photo, settings):
    rng = np.random.default_rng(7)
    # Noise is the worst case for JPEG: at full quality it would be far past the limits.
    noise = rng.integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    order = make_finished_order(photo, service="virtual_staging", images=[result_image(noise)])
    renditions = {r.kind: r for r in order.results.get().renditions.all()}

    mls, web, full = renditions["mls"], renditions["web"], renditions["full"]
    assert max(mls.width, mls.height) <= settings.DELIVERY_MLS_LONG_EDGE
    assert mls.byte_size <= settings.DELIVERY_MLS_MAX_BYTES
    assert max(web.width, web.height) <= settings.DELIVERY_WEB_LONG_EDGE
    assert web.byte_size <= settings.DELIVERY_WEB_MAX_BYTES
    assert (full.width, full.height) == (4000, 3000)
    for rendition in (mls, web):
        assert read(rendition).size == (rendition.width, rendition.height)
        assert rendition.file.size == rendition.byte_size


def test_downloads_are_the_owners_only(outsider_client, staged):
    result = staged.results.get()
    for kind in ("full", "mls", "web"):
        url = reverse("orders:result_download", args=[result.pk, kind])
        assert outsider_client.get(url).status_code == 404


def test_unknown_or_unfit_kinds_are_404(agent_client, staged):
    result = staged.results.get()
    for kind in ("original", "full_white", "huge"):
        url = reverse("orders:result_download", args=[result.pk, kind])
        assert agent_client.get(url).status_code == 404


def test_share_page_shows_the_listing_the_agent_and_captions(agent_client, client, agent, staged):
    agent.phone, agent.contact_email = "+33 6 12 34 56 78", "alice@martin-immobilier.fr"
    agent.save()
    project = staged.photo.project
    agent_client.post(
        reverse("orders:share_create", args=["project", project.pk]),
        {"expires_in_days": "7", "allow_downloads": "on"},
    )
    link = project.share_links.get()

    page = client.get(link.get_absolute_url()).text

    assert project.name in page
    assert project.address not in page  # not unless the agent chooses to show it
    assert "Alice Martin" in page and "Martin Immobilier" in page
    assert "tel:+33612345678" in page and "alice@martin-immobilier.fr" in page
    assert "Virtually staged · Scandinavian living room" in page
    result = staged.results.get()
    for kind in ("full", "mls", "web"):
        url = reverse("orders:share_file", args=[link.token, kind, result.pk])
        assert url in page
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
        assert xmp_of(image)["DigitalSourceType"].endswith("compositeWithTrainedAlgorithmicMedia")
    # The "after" picture is the labelled web size.
    after = client.get(reverse("orders:share_file", args=[link.token, "display", result.pk]))
    after_image = Image.open(io.BytesIO(b"".join(after.streaming_content)))
    assert corner_is_dark(after_image, "bottom_right")


def test_share_page_shows_the_address_only_when_chosen_and_downloads_only_when_allowed(
    agent_client, client, staged
):
    project = staged.photo.project
    agent_client.post(
        reverse("orders:share_create", args=["project", project.pk]),
        {"expires_in_days": "7", "show_address": "on"},
    )
    link = project.share_links.get()
    result = staged.results.get()

    page = client.get(link.get_absolute_url()).text

    assert project.address in page
    assert not link.allow_downloads
    for kind in ("full", "mls", "web"):
        url = reverse("orders:share_file", args=[link.token, kind, result.pk])
        assert url not in page
        assert client.get(url).status_code == 404
