"""The site's settings with the bench's URLconf: `make bench` only, never deployed."""

from homedesign.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.urls"
