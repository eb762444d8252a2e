from pathlib import Path

import pytest
from django.urls import reverse

from homedesign.projects.models import Photo, Project

from .factories import Stored, make_photo, make_project


def test_dashboard_empty_state_tells_the_agent_what_to_do(agent_client):
    response = agent_client.get(reverse("projects:project_list"))

    assert "Create your first project" in response.text
    assert reverse("projects:project_create") in response.text


def test_dashboard_lists_only_my_projects_with_cover_and_photo_count(agent_client, agent, outsider):
    mine = make_project(agent, name="Villa Rosa")
    cover = make_photo(mine, name="first.jpg")
    make_photo(mine, name="second.jpg")
    make_project(outsider, name="Someone else's flat")

    response = agent_client.get(reverse("projects:project_list"))

    assert "Villa Rosa" in response.text
    assert "Someone else" not in response.text
    assert "2 photos" in response.text
    assert reverse("projects:photo_file", args=[cover.pk, "thumbnail"]) in response.text


def test_create_project(agent_client, agent):
    response = agent_client.post(
        reverse("projects:project_create"),
        {"name": "Loft Canal", "address": "3 Quai de Jemmapes, Paris", "notes": "4th floor"},
    )

    project = Project.objects.get()
    assert project.owner == agent
    assert response.url == project.get_absolute_url()
    page = agent_client.get(response.url)
    assert "No photos in this project yet." in page.text


def test_create_project_needs_a_name(agent_client):
    response = agent_client.post(reverse("projects:project_create"), {"name": ""})

    assert response.status_code == 200
    assert "This field is required." in response.text
    assert not Project.objects.exists()


def test_rename_and_edit_address_and_notes(agent_client, project):
    response = agent_client.post(
        reverse("projects:project_edit", args=[project.pk]),
        {"name": "Renamed", "address": "1 Place Bellecour", "notes": "Keys at the agency"},
    )

    project.refresh_from_db()
    assert response.url == project.get_absolute_url()
    assert (project.name, project.address, project.notes) == (
        "Renamed",
        "1 Place Bellecour",
        "Keys at the agency",
    )


def test_delete_asks_first_then_removes_project_photos_and_files(
    agent_client, project, settings, django_capture_on_commit_callbacks
):
    photo = make_photo(project)
    files = [Stored(name) for name in photo.stored_files()]
    assert all(f.exists() for f in files)

    confirm = agent_client.get(reverse("projects:project_delete", args=[project.pk]))
    assert "for good" in confirm.text
    assert Project.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("projects:project_delete", args=[project.pk]))

    assert response.url == reverse("projects:project_list")
    assert not Project.objects.exists() and not Photo.objects.exists()
    assert not any(f.exists() for f in files)
    assert not (Path(settings.MEDIA_ROOT) / "photos" / str(project.pk)).exists()


def test_project_page_shows_the_photo_grid(agent_client, project):
    photo = make_photo(project, name="salon.jpg")

    response = agent_client.get(project.get_absolute_url())

    assert "salon.jpg" in response.text
    assert photo.get_absolute_url() in response.text
    assert 'id="dropzone"' in response.text


def test_htmx_request_gets_only_the_photo_grid(agent_client, project):
    make_photo(project, name="salon.jpg")

    full = agent_client.get(project.get_absolute_url())
    fragment = agent_client.get(project.get_absolute_url(), headers={"HX-Request": "true"})

    assert "<html" in full.text and "<html" not in fragment.text
    assert fragment.text.strip().startswith('<section id="photo-grid"')
    assert "salon.jpg" in fragment.text
    assert "HX-Request" in full["Vary"] and "HX-Request" in fragment["Vary"]


def test_photo_page_shows_facts_and_neighbours(agent_client, project):
    first = make_photo(project, name="a.jpg")
    second = make_photo(project, name="b.jpg")

    response = agent_client.get(second.get_absolute_url())

    assert "Photo 2 of 2" in response.text
    assert "600 × 400" in response.text
    assert reverse("projects:photo_detail", args=[first.pk]) in response.text
    assert reverse("projects:photo_file", args=[second.pk, "display"]) in response.text


def test_delete_photo_asks_first_then_removes_files(
    agent_client, project, settings, django_capture_on_commit_callbacks
):
    photo = make_photo(project)
    files = [Stored(name) for name in photo.stored_files()]

    assert "for good" in agent_client.get(reverse("projects:photo_delete", args=[photo.pk])).text
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("projects:photo_delete", args=[photo.pk]))

    assert response.url == project.get_absolute_url()
    assert not Photo.objects.exists()
    assert not any(f.exists() for f in files)
    assert Project.objects.filter(pk=project.pk).exists()


def project_urls(project: Project, photo: Photo) -> list[tuple[str, str]]:
    return [
        ("get", reverse("projects:project_detail", args=[project.pk])),
        ("get", reverse("projects:project_edit", args=[project.pk])),
        ("post", reverse("projects:project_edit", args=[project.pk])),
        ("get", reverse("projects:project_delete", args=[project.pk])),
        ("post", reverse("projects:project_delete", args=[project.pk])),
        ("post", reverse("projects:photo_upload", args=[project.pk])),
        ("get", reverse("projects:photo_detail", args=[photo.pk])),
        ("get", reverse("projects:photo_delete", args=[photo.pk])),
        ("post", reverse("projects:photo_delete", args=[photo.pk])),
    ]


@pytest.mark.parametrize("index", range(9))
def test_outsider_gets_404_and_changes_nothing(outsider_client, project, index):
    photo = make_photo(project)
    method, url = project_urls(project, photo)[index]

    response = getattr(outsider_client, method)(
        url, {"name": "Hijacked"} if method == "post" else {}
    )

    assert response.status_code == 404
    project.refresh_from_db()
    assert project.name != "Hijacked"
    assert Photo.objects.filter(pk=photo.pk).exists()


@pytest.mark.parametrize("index", range(9))
def test_logged_out_visitor_is_sent_to_login(client, project, index):
    photo = make_photo(project)
    method, url = project_urls(project, photo)[index]

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert Photo.objects.filter(pk=photo.pk).exists()


def test_logged_out_dashboard_goes_to_login(client, db):
    response = client.get(reverse("projects:project_list"))

    assert response.url.startswith(reverse("accounts:login"))
