"""The whole listing in one download: a ZIP the worker builds, pairing originals and edits."""

import io
import zipfile

import pytest
from django.urls import reverse
from PIL import Image

from orders.models import ListingZip
from orders.tasks import listing_zip_task

from .factories import Stored, make_finished_order, make_photo, make_project
from .images import jpeg_bytes


@pytest.fixture
def listing(project):
    """Two photos; the second staged twice (a variation), the first enhanced."""
    hall = make_photo(project, name="Hall.jpg", data=jpeg_bytes((480, 360), gps=True))
    living = make_photo(project, name="living room.jpg", data=jpeg_bytes((640, 480), gps=True))
    enhanced = make_finished_order(hall, service="image_enhancement", provider="local")
    staged = make_finished_order(living, service="virtual_staging", style="scandinavian")
    again = make_finished_order(living, service="virtual_staging", style="industrial")
    return project, [o.results.get() for o in (enhanced, staged, again)]


def built(agent_client, project, results, **fields) -> ListingZip:
    response = agent_client.post(
        reverse("orders:listing_zip_create", args=[project.pk]),
        {"results": [str(r.pk) for r in results], "size": "mls", **fields},
    )
    archive = ListingZip.objects.get()
    assert response.status_code == 302 and response.url == archive.get_absolute_url()
    listing_zip_task.call(zip_id=str(archive.pk))
    archive.refresh_from_db()
    return archive


def downloaded(agent_client, archive: ListingZip) -> zipfile.ZipFile:
    response = agent_client.get(reverse("orders:listing_zip_file", args=[archive.pk]))
    assert response.status_code == 200
    assert response.streaming  # streamed from storage, not read into memory
    assert response["Content-Disposition"] == 'attachment; filename="12-rue-des-lilas-mls.zip"'
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_zip_pairs_each_original_with_its_edits(agent_client, listing):
    project, results = listing

    archive = built(agent_client, project, results, include_originals="on")

    assert archive.status == "ready" and archive.progress == 100
    names = downloaded(agent_client, archive).namelist()
    assert names == [
        "01-hall.jpg",
        "01-hall-image-enhancement.jpg",
        "02-living-room.jpg",
        "02-living-room-virtually-staged.jpg",
        "02-living-room-virtually-staged-2.jpg",
    ]


def test_zip_entries_carry_metadata_and_no_gps(agent_client, listing):
    project, results = listing
    archive = built(agent_client, project, results, include_originals="on")
    zipped = downloaded(agent_client, archive)

    for name in zipped.namelist():
        image = Image.open(io.BytesIO(zipped.read(name)))
        assert not image.getexif(), name  # neither the camera's nor the home's GPS
        assert max(image.size) <= 2048
        description = image.getxmp()["xmpmeta"]["RDF"]["Description"]
        if name.endswith("virtually-staged.jpg"):
            assert description["DigitalSourceType"].endswith("compositeWithTrainedAlgorithmicMedia")
        elif name == "02-living-room.jpg":
            assert "not altered" in description["description"]["Alt"]["li"]["text"]
            assert "DigitalSourceType" not in description


def test_zip_holds_only_the_chosen_results(agent_client, listing):
    project, results = listing

    archive = built(agent_client, project, results[1:2])

    assert downloaded(agent_client, archive).namelist() == ["02-living-room-virtually-staged.jpg"]


def test_zip_page_polls_until_ready_then_stops(agent_client, listing):
    project, results = listing
    agent_client.post(
        reverse("orders:listing_zip_create", args=[project.pk]),
        {"results": [str(results[0].pk)], "size": "web"},
    )
    archive = ListingZip.objects.get()

    waiting = agent_client.get(archive.get_absolute_url(), headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and 'hx-trigger="every 2s"' in waiting.text
    listing_zip_task.call(zip_id=str(archive.pk))
    ready = agent_client.get(archive.get_absolute_url(), headers={"HX-Request": "true"})
    assert ready.status_code == 286 and "hx-trigger" not in ready.text
    assert reverse("orders:listing_zip_file", args=[archive.pk]) in ready.text
    full_page = agent_client.get(archive.get_absolute_url())
    assert full_page.status_code == 200 and "<html" in full_page.text


def test_a_newer_zip_replaces_the_older(agent_client, listing, settings):
    project, results = listing
    first = built(agent_client, project, results[:1])
    path = Stored(first.file.name)
    assert path.exists()

    agent_client.post(
        reverse("orders:listing_zip_create", args=[project.pk]),
        {"results": [str(results[1].pk)], "size": "web"},
    )
    second = ListingZip.objects.exclude(pk=first.pk).get()
    listing_zip_task.call(zip_id=str(second.pk))

    assert not path.exists()
    assert list(ListingZip.objects.all()) == [second]


def test_zip_without_results_is_refused(agent_client, listing):
    project, _ = listing
    response = agent_client.post(
        reverse("orders:listing_zip_create", args=[project.pk]), {"size": "mls"}
    )
    assert response.status_code == 400
    assert "Tick at least one result" in response.text
    assert not ListingZip.objects.exists()


def test_another_agents_results_never_enter_the_zip(agent_client, outsider, listing):
    project, results = listing
    theirs = make_photo(make_project(outsider), name="theirs.jpg")
    their_result = make_finished_order(theirs, service="virtual_staging").results.get()

    archive = built(agent_client, project, [results[0], their_result])

    assert list(archive.results.all()) == [results[0]]


def test_zip_pages_are_the_owners_only(agent_client, outsider, listing):
    project, results = listing
    archive = built(agent_client, project, results[:1])
    agent_client.force_login(outsider)

    for url in (
        archive.get_absolute_url(),
        reverse("orders:listing_zip_file", args=[archive.pk]),
    ):
        assert agent_client.get(url).status_code == 404
