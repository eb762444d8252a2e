"""The whole listing in one download: a ZIP the worker builds, pairing originals and edits."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from PIL import Image

from homedesign.taskrows import task_rows_reap_stale
from orders import services
from orders.models import ListingZip, Rendition
from orders.tasks import listing_zip_task

from .factories import Stored, make_finished_order, make_photo, make_project, stored_under
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


def asked_for(agent_client, project, results) -> ListingZip:
    agent_client.post(
        reverse("orders:listing_zip_create", args=[project.pk]),
        {"results": [str(r.pk) for r in results], "size": "mls"},
    )
    return ListingZip.objects.get()


def worker_dies_building(archive: ListingZip, *, minutes_ago: int = 11) -> DBTaskResult:
    """What a worker killed mid-build leaves: the ZIP building, its last entry written
    `minutes_ago`, and its task row RUNNING."""
    row = DBTaskResult.objects.get(pk=listing_zip_task.enqueue(zip_id=str(archive.pk)).id)
    row.claim("killed-worker")
    last_entry = timezone.now() - timedelta(minutes=minutes_ago)
    ListingZip.objects.filter(pk=archive.pk).update(
        status="building", builds=archive.builds + 1, progress=40, heartbeat_at=last_entry
    )
    archive.refresh_from_db()
    return row


def zip_builds_queued(archive: ListingZip) -> int:
    return DBTaskResult.objects.filter(
        task_path__endswith="listing_zip_task",
        args_kwargs__kwargs__zip_id=str(archive.pk),
        status="READY",
    ).count()


@pytest.mark.usefixtures("database_queue")  # its task rows too
def test_a_zip_whose_worker_died_is_built_again(
    agent_client, listing, django_capture_on_commit_callbacks
):
    project, results = listing
    archive = asked_for(agent_client, project, results)
    row = worker_dies_building(archive)
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("reap_orders", stdout=out)  # what `make run` does every minute

    assert "1 stranded listing ZIP handled." in out.getvalue()
    assert DBTaskResult.objects.get(pk=row.pk).status == "FAILED"  # the dead worker's row
    archive.refresh_from_db()
    assert (archive.status, archive.progress) == ("queued", 0)
    assert zip_builds_queued(archive) == 1
    waiting = agent_client.get(archive.get_absolute_url())
    assert "Waiting to start" in waiting.text

    listing_zip_task.call(zip_id=str(archive.pk))  # the next worker

    archive.refresh_from_db()
    assert (archive.status, archive.builds) == ("ready", 2)
    assert len(downloaded(agent_client, archive).namelist()) == 3


@pytest.mark.usefixtures("database_queue")  # its task rows too
def test_a_zip_lost_twice_fails_and_the_agent_can_ask_again(agent_client, listing):
    project, results = listing
    archive = asked_for(agent_client, project, results)
    worker_dies_building(archive)
    call_command("reap_orders", stdout=io.StringIO())
    worker_dies_building(ListingZip.objects.get(pk=archive.pk))

    call_command("reap_orders", stdout=io.StringIO())

    archive.refresh_from_db()
    assert archive.status == "failed" and archive.finished_at
    assert "make the ZIP again" in archive.message
    gallery = agent_client.get(reverse("orders:project_gallery", args=[project.pk]))
    assert 'data-testid="zip-failed"' in gallery.text
    assert "the server preparing it stopped twice" in gallery.text
    page = agent_client.get(archive.get_absolute_url())
    assert "The ZIP could not be made" in page.text and "Try again" in page.text

    asked_for_again = agent_client.post(  # from the gallery's form, under the message
        reverse("orders:listing_zip_create", args=[project.pk]),
        {"results": [str(r.pk) for r in results], "size": "mls"},
    )
    again = ListingZip.objects.exclude(pk=archive.pk).get()
    assert asked_for_again.url == again.get_absolute_url()
    listing_zip_task.call(zip_id=str(again.pk))

    assert ListingZip.objects.get(pk=again.pk).status == "ready"
    assert list(ListingZip.objects.all()) == [again]  # the failed one is tidied away
    assert list(ListingZip.objects.all()) == [again]  # the failed one is tidied away
    gallery = agent_client.get(reverse("orders:project_gallery", args=[project.pk]))
    assert 'data-testid="zip-failed"' not in gallery.text


@pytest.mark.usefixtures("database_queue")  # its task rows too
def test_a_zip_still_building_is_left_alone(agent_client, listing):
    project, results = listing
    archive = asked_for(agent_client, project, results)
    row = worker_dies_building(archive, minutes_ago=2)  # slow, not dead

    call_command("reap_orders", stdout=io.StringIO())

    assert ListingZip.objects.get(pk=archive.pk).status == "building"
    assert task_rows_reap_stale() == 0
    assert DBTaskResult.objects.get(pk=row.pk).status == "RUNNING"


def test_a_build_given_up_as_lost_writes_nothing_over_the_next(agent_client, listing, settings):
    """A worker only slow, not dead: the reaper queues its ZIP again while it makes the
    first entry. At its next step it finds the ZIP no longer its own and stops; the build
    that follows stands alone."""
    project, results = listing
    archive = asked_for(agent_client, project, results)
    Rendition.objects.all().delete()  # made during the build, which takes a while
    settings.LISTING_ZIP_STALE_SECONDS = 0  # any build looks lost at once
    reaped: list[int] = []

    def reaper_runs_meanwhile(**kwargs) -> None:
        if not reaped:
            reaped.append(services.listing_zips_reap_stranded())

    post_save.connect(reaper_runs_meanwhile, sender=Rendition)
    try:
        listing_zip_task.call(zip_id=str(archive.pk))
    finally:
        post_save.disconnect(reaper_runs_meanwhile, sender=Rendition)

    archive.refresh_from_db()
    assert reaped == [1]
    assert (archive.status, archive.builds, archive.file.name) == ("queued", 1, "")
    assert not [name for name in stored_under("zips") if name.endswith(".zip")]

    listing_zip_task.call(zip_id=str(archive.pk))

    archive.refresh_from_db()
    assert (archive.status, archive.builds) == ("ready", 2)
    assert len(downloaded(agent_client, archive).namelist()) == 3
