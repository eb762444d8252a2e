from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "homedesign.projects"
    label = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from . import images

        images.configure_pillow(settings.PHOTO_MAX_PIXELS)
