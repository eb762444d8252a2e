"""A share link's own choice of disclosure label (by default the listing's), and the
comparison's Before/After tags kept clear of the label wherever it is."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from homedesign.projects.models import Project
from orders import delivery
from orders.models import ShareLink
from orders.services import share_link_create
from orders.tasks import deliver_results_task

from .factories import make_finished_order, make_photo
from .images import jpeg_bytes
from .test_delivery import corner_is_dark


@pytest.fixture
def staged(project):
    photo = make_photo(project, data=jpeg_bytes((640, 480)))
    return make_finished_order(photo, service="virtual_staging", style="scandinavian")


def link_made(agent_client, project, **fields) -> ShareLink:
    """The agent makes a link from the listing's Edits page; the worker then delivers."""
    response = agent_client.post(
        reverse("orders:share_create", args=["project", project.pk]),
        {"expires_in_days": "7", "allow_downloads": "on", **fields},
    )
    assert response.status_code == 302
    link = project.share_links.get()
    deliver_results_task.call(result_ids=[str(r.pk) for r in link.shared_results()])
    return link


def served(client, link: ShareLink, kind: str, pk) -> Image.Image:
    response = client.get(reverse("orders:share_file", args=[link.token, kind, pk]))
    assert response.status_code == 200, response
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    image.load()
    return image


def test_a_link_follows_the_listings_label_by_default(agent_client, client, project, staged):
    result = staged.results.get()
    link = link_made(agent_client, project)

    assert link.label_mode == ""
    page = client.get(link.get_absolute_url())
    assert "labelled “Virtually staged”" in page.text and "are labelled and" in page.text
    assert corner_is_dark(served(client, link, "display", result.pk), "bottom_right")

    agent_client.post(  # the agent turns the listing's label off; the worker delivers again
        reverse("orders:project_label", args=[project.pk]),
        {"label_mode": "off", "label_corner": "bottom_right"},
    )
    deliver_results_task.call(result_ids=[str(result.pk)])
    page = client.get(link.get_absolute_url())
    assert "disclosed in the file's metadata" in page.text and "are labelled" not in page.text
    assert not corner_is_dark(served(client, link, "mls", result.pk), "bottom_right")


def test_a_link_without_the_label(agent_client, client, project, staged):
    result = staged.results.get()

    link = link_made(agent_client, project, label_mode="off")

    assert link.label_mode == "off"
    page = client.get(link.get_absolute_url())
    assert "disclosed in the file's metadata" in page.text
    assert 'data-label="none"' in page.text
    for kind in ("display", "mls", "full"):
        image = served(client, link, kind, result.pk)
        assert not corner_is_dark(image, "bottom_right"), kind
        # Still disclosed, in the file itself.
        if kind != "display":
            title = image.getxmp()["xmpmeta"]["RDF"]["Description"]["title"]
            assert title["Alt"]["li"]["text"].startswith("Virtually staged")
    # The agent's own downloads keep the listing's label.
    own = agent_client.get(reverse("orders:result_download", args=[result.pk, "mls"]))
    image = Image.open(io.BytesIO(b"".join(own.streaming_content)))
    assert corner_is_dark(image, "bottom_right")
    gallery = agent_client.get(reverse("orders:project_gallery", args=[project.pk]))
    assert "no label" in gallery.text


def test_a_link_labelling_every_photo_of_an_unlabelled_listing(
    agent_client, client, project, staged
):
    Project.objects.filter(pk=project.pk).update(label_mode="off", label_corner="top_left")
    project.refresh_from_db()
    result = staged.results.get()

    link = link_made(agent_client, project, label_mode="all")

    page = client.get(link.get_absolute_url())
    assert "labelled “Virtually staged”" in page.text
    assert corner_is_dark(served(client, link, "display", result.pk), "top_left")
    assert corner_is_dark(served(client, link, "web", result.pk), "top_left")


def test_results_finished_after_the_link_get_its_label_too(agent_client, client, project, staged):
    link = link_made(agent_client, project, label_mode="off")

    later = make_finished_order(staged.photo, service="virtual_staging", style="industrial")

    result = later.results.get()  # delivered by the worker as the order finished
    assert {r.label for r in result.renditions.all()} == {"", "bottom_right"}
    assert not corner_is_dark(served(client, link, "display", result.pk), "bottom_right")


def test_an_unknown_label_choice_makes_no_link(agent_client, project, staged):
    response = agent_client.post(
        reverse("orders:share_create", args=["project", project.pk]),
        {"expires_in_days": "7", "label_mode": "sideways"},
        follow=True,
    )

    assert "Choose the label from the list; no link was made." in response.text
    assert not project.share_links.exists()


@pytest.mark.parametrize(
    ("corner", "bottom"),
    [("top_right", True), ("top_left", True), ("bottom_right", False), ("bottom_left", False)],
)
def test_before_after_tags_keep_clear_of_the_label(
    agent_client, client, project, staged, corner, bottom
):
    Project.objects.filter(pk=project.pk).update(label_mode="all", label_corner=corner)
    link = share_link_create(
        owner=project.owner, subject=project, expires_at=None, include_originals=False
    )
    delivery.results_deliver(list(link.shared_results()))

    for page in (
        client.get(link.get_absolute_url()),
        agent_client.get(staged.get_absolute_url()),
    ):
        assert f'data-label="{corner}"' in page.text
        assert ('class="compare tags-bottom"' in page.text) is bottom
    # An enhancement carries no label, yet its tags line up with the labelled results'.
    enhanced = make_finished_order(staged.photo, service="image_enhancement", provider="local")
    page = client.get(link.get_absolute_url())
    assert page.text.count('data-label="none"') == 1
    assert page.text.count('class="compare tags-bottom"') == (2 if bottom else 0)
    assert enhanced.results.exists()
