"""The agent's logo: uploaded on the profile page, checked like any upload, re-encoded
from its pixels, removable, and shown on the agent's share pages only."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from homedesign.accounts.models import User
from orders.services import share_link_create, share_link_revoke

from .factories import make_project, stored_under, view_answer
from .images import encoded, heic_bytes, jpeg_bytes, png_claiming_size


def logo_png(size: tuple[int, int] = (800, 200), colour=(30, 60, 160)) -> bytes:
    """A wordmark-like logo on a transparent background, with a text chunk that must not
    survive (an editor may write the agency's address or a file path there)."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((*colour, 255), (size[0] // 10, size[1] // 4, size[0] * 9 // 10, size[1] * 3 // 4))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "C:/Users/alice/clients/12 rue des Lilas.psd")
    return encoded(image, "PNG", pnginfo=info)


def upload(data: bytes, name: str = "logo.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def details(**extra) -> dict:
    return {
        "name": "Alice Martin",
        "agency": "Martin Immobilier",
        "phone": "+33 6 12 34 56 78",
        "contact_email": "alice@martin-immobilier.fr",
        **extra,
    }


def stored_logos() -> list:
    return sorted(stored_under("logos"))


def served_image(response) -> Image.Image:
    data = b"".join(response.streaming_content)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_agent_uploads_a_logo_and_sees_it_on_their_profile(agent_client, agent, private_media):
    response = agent_client.post(
        reverse("accounts:profile"), details(logo=upload(logo_png())), follow=True
    )

    assert "Your profile was saved." in response.text
    agent.refresh_from_db()
    assert agent.logo.name.startswith(f"logos/{agent.pk}/") and agent.logo.name.endswith(".png")
    assert 'data-testid="profile-logo"' in response.text
    assert "Remove my logo" in response.text
    served = agent_client.get(reverse("accounts:profile_logo"))
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    logo = served_image(served)
    # Re-encoded from pixels: fitted into 512 px, transparency kept, no text chunk.
    assert logo.size == (512, 128) and logo.mode == "RGBA"
    assert logo.getpixel((0, 0))[3] == 0 and logo.getpixel((256, 64))[3] == 255
    assert "Comment" not in logo.info and not logo.getexif()


def test_a_jpeg_logo_loses_its_camera_metadata(agent_client, agent):
    data = jpeg_bytes((300, 200), gps=True, comment=b"12 Rue des Lilas, Lyon")
    agent_client.post(
        reverse("accounts:profile"), details(logo=upload(data, "logo.jpg", "image/jpeg"))
    )

    logo = served_image(agent_client.get(reverse("accounts:profile_logo")))
    assert logo.format == "PNG" and logo.size == (300, 200)
    assert not logo.getexif() and "comment" not in logo.info


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("logo.png", b"this is a text file, renamed", "is not a PNG, JPEG or WebP image"),
        ("logo.heic", heic_bytes((200, 100)), "is not a PNG, JPEG or WebP image"),
        ("logo.gif", encoded(Image.new("RGB", (50, 50)), "GIF"), "is not a PNG, JPEG or WebP"),
        ("huge.png", png_claiming_size(6000, 6000), "6,000 × 6,000 pixels; a logo may have at"),
        ("cut.png", logo_png()[:300], "is damaged or incomplete"),
        ("empty.png", b"", "is empty"),
    ],
    ids=["text", "heic", "gif", "pixels", "truncated", "empty"],
)
def test_a_bad_logo_is_refused_and_the_rest_of_the_form_kept(
    agent_client, agent, private_media, name, data, message
):
    response = agent_client.post(
        reverse("accounts:profile"), details(agency="Lilas Immo", logo=upload(data, name))
    )

    assert response.status_code == 400
    assert message in response.text.replace("&#x27;", "'")
    assert 'data-testid="logo-error"' in response.text
    assert 'value="Lilas Immo"' in response.text  # what was typed is still there
    assert 'value="+33 6 12 34 56 78"' in response.text
    agent.refresh_from_db()
    assert agent.agency == "Martin Immobilier" and not agent.logo  # nothing saved
    assert stored_logos() == []


def test_a_logo_too_many_bytes_says_the_limit(agent_client, agent, settings):
    settings.LOGO_MAX_BYTES = 10_000

    noisy = encoded(Image.frombytes("RGB", (100, 100), os.urandom(30_000)), "PNG")

    response = agent_client.post(reverse("accounts:profile"), details(logo=upload(noisy)))

    assert response.status_code == 400
    assert "a logo may be at most 9.8\xa0KB" in response.text
    assert not User.objects.get(pk=agent.pk).logo


def test_a_good_logo_beside_another_mistake_is_asked_for_again(agent_client, agent):
    response = agent_client.post(
        reverse("accounts:profile"),
        details(contact_email="not an address", logo=upload(logo_png())),
    )

    assert response.status_code == 400
    assert "Your logo was fine: choose it again" in response.text
    assert not User.objects.get(pk=agent.pk).logo


def test_replacing_then_removing_the_logo_deletes_the_old_files(
    agent_client, agent, private_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(reverse("accounts:profile"), details(logo=upload(logo_png())))
    first = stored_logos()

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            reverse("accounts:profile"), details(logo=upload(logo_png(colour=(200, 0, 0))))
        )
    second = stored_logos()
    assert len(first) == len(second) == 1 and first != second

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            reverse("accounts:profile"), details(remove_logo="on"), follow=True
        )

    assert "Your profile was saved." in response.text
    assert stored_logos() == []
    assert not User.objects.get(pk=agent.pk).logo
    assert 'data-testid="profile-logo"' not in response.text
    assert agent_client.get(reverse("accounts:profile_logo")).status_code == 404


def test_saving_details_keeps_the_logo(agent_client, agent):
    agent_client.post(reverse("accounts:profile"), details(logo=upload(logo_png())))
    name = User.objects.get(pk=agent.pk).logo.name

    agent_client.post(reverse("accounts:profile"), details(agency="Lilas Immo"))

    agent.refresh_from_db()
    assert (agent.agency, agent.logo.name) == ("Lilas Immo", name)


def test_the_profile_logo_is_only_ever_your_own(agent_client, agent, outsider, client):
    agent_client.post(reverse("accounts:profile"), details(logo=upload(logo_png())))
    client.force_login(outsider)

    assert client.get(reverse("accounts:profile_logo")).status_code == 404  # they have none
    client.logout()
    response = client.get(reverse("accounts:profile_logo"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_a_share_page_shows_its_owners_logo_and_only_theirs(client, agent, outsider):
    for user, colour in ((agent, (30, 60, 160)), (outsider, (200, 0, 0))):
        client.force_login(user)
        client.post(reverse("accounts:profile"), details(logo=upload(logo_png(colour=colour))))
    client.logout()
    mine = share_link_create(
        owner=agent, subject=make_project(agent), expires_at=None, include_originals=False
    )
    theirs = share_link_create(
        owner=outsider, subject=make_project(outsider), expires_at=None, include_originals=False
    )

    page = client.get(mine.get_absolute_url())
    logo_url = reverse("orders:share_logo", args=[mine.token])
    assert f'src="{logo_url}"' in page.text and 'data-testid="agent-logo"' in page.text
    assert reverse("accounts:profile_logo") not in page.text
    served = client.get(logo_url)
    assert served.status_code == 200
    assert view_answer(served)["X-Robots-Tag"] == "noindex, nofollow"
    assert served_image(served).getpixel((256, 64))[:3] == (30, 60, 160)
    their_logo = served_image(client.get(reverse("orders:share_logo", args=[theirs.token])))
    assert their_logo.getpixel((256, 64))[:3] == (200, 0, 0)

    share_link_revoke(link=mine)
    assert client.get(logo_url).status_code == 404


def test_a_share_page_without_a_logo_shows_the_initial(client, agent):
    link = share_link_create(
        owner=agent, subject=make_project(agent), expires_at=None, include_originals=False
    )

    page = client.get(link.get_absolute_url())

    assert 'class="avatar large"' in page.text and "agent-logo" not in page.text
    assert client.get(reverse("orders:share_logo", args=[link.token])).status_code == 404
    assert client.get(reverse("orders:share_logo", args=["not-a-token"])).status_code == 404


def test_a_logo_is_not_a_photo_budget_bypass(agent_client, agent, settings):
    """The logo's own pixel limit applies, well below the photos' one."""
    settings.LOGO_MAX_PIXELS = 1_000_000
    response = agent_client.post(
        reverse("accounts:profile"), details(logo=upload(logo_png((2000, 600))))
    )
    assert response.status_code == 400
    assert "2,000 × 600 pixels; a logo may have at most 1 megapixels" in response.text
