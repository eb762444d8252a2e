import pytest
from django.conf import settings as django_settings

from .factories import make_photo, make_project, make_user
from .images import jpeg_bytes, two_band_image


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Each test stores its files in its own folder, and static files need no collectstatic."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """A login costs 0.6 s of CPU with the real hasher; lockout tests make dozens."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agent(db):
    return make_user("agent@example.com", name="Alice Martin", agency="Martin Immobilier")


@pytest.fixture
def outsider(db):
    return make_user("other@example.com")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def project(agent):
    return make_project(agent, address="12 Rue des Lilas, Lyon")


@pytest.fixture
def sideways_photo(project):
    """300×450 upright, red above blue, stored sideways (EXIF 6): remote APIs ignore EXIF
    orientation, so they must be sent the upright photo the agent saw and painted on."""
    data = jpeg_bytes(image=two_band_image((300, 450)).rotate(90, expand=True), orientation=6)
    return make_photo(project, data=data)


def pytest_report_header(config) -> str:
    database = django_settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}"
