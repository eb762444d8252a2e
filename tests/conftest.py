import pytest
from django.conf import settings as django_settings

from .factories import make_project, make_user


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Each test stores its files in its own folder, and static files need no collectstatic."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return settings.MEDIA_ROOT


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


def pytest_report_header(config) -> str:
    database = django_settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}"
