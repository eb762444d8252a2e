from django.core.files.uploadedfile import SimpleUploadedFile

from homedesign.accounts.models import User
from homedesign.projects.models import Photo, Project
from homedesign.projects.services import photo_add

from .images import jpeg_bytes

PASSWORD = "correct horse battery staple"


def make_user(email: str = "agent@example.com", *, password: str = PASSWORD, **fields) -> User:
    return User.objects.create_user(email=email, password=password, **fields)


def make_project(owner: User, *, name: str = "12 Rue des Lilas", **fields) -> Project:
    return Project.objects.create(owner=owner, name=name, **fields)


def make_photo(
    project: Project, *, name: str = "living-room.jpg", data: bytes | None = None
) -> Photo:
    upload = SimpleUploadedFile(name, data or jpeg_bytes(), content_type="image/jpeg")
    return photo_add(project=project, upload=upload)
