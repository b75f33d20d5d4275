"""Checking the material files applicants upload: PDF, JPEG or PNG up to 20 MB, recognised by
their content (not only by their name), stored under a random name."""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

MAX_BYTES_DEFAULT = 20 * 1024 * 1024
# extension -> (kind, content type); a kind is recognised by its first bytes.
EXTENSIONS = {
    "pdf": ("pdf", "application/pdf"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "png": ("png", "image/png"),
}
SIGNATURES = {"pdf": b"%PDF-", "jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}
STORED_EXTENSION = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}

WRONG_KIND = _("Only PDF, JPEG and PNG files are accepted.")


def max_bytes() -> int:
    return getattr(settings, "PLEDGE_MATERIAL_MAX_BYTES", MAX_BYTES_DEFAULT)


@dataclass(frozen=True)
class CheckedFile:
    upload: object  # an UploadedFile
    original_name: str
    extension: str  # the stored extension: pdf, jpg or png


def _sniff(upload) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for kind, signature in SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


def _image_is_whole(upload) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    finally:
        upload.seek(0)
    return True


def check_upload(upload) -> CheckedFile:
    """The file, checked; raises ``ValidationError`` with one clear message otherwise."""
    raw_name = str(getattr(upload, "name", "") or "")
    if "\x00" in raw_name:
        raise ValidationError(_("File names may not contain null characters."))
    name = os.path.basename(raw_name.replace("\\", "/")).strip() or "file"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot else name[:200]
    size = getattr(upload, "size", 0) or 0
    if size == 0:
        raise ValidationError(_("The file is empty."))
    limit = max_bytes()
    if size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s): files of at most %(max)d MB are accepted.")
            % {"size": filesizeformat(size), "max": limit // (1024 * 1024)}
        )
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    kind = _sniff(upload)
    if extension not in EXTENSIONS or kind is None:
        raise ValidationError(WRONG_KIND)
    if EXTENSIONS[extension][0] != kind:
        raise ValidationError(
            _(
                "The file's content does not match its name (.%(ext)s). Only PDF, JPEG and PNG files are accepted."
            )
            % {"ext": extension}
        )
    if kind in ("jpeg", "png") and not _image_is_whole(upload):
        raise ValidationError(_("The image is damaged or incomplete. Scan or save it again."))
    return CheckedFile(upload=upload, original_name=name, extension=STORED_EXTENSION[kind])


def stored_name(checked: CheckedFile) -> str:
    """A random file name: nothing the applicant typed reaches the file system."""
    return f"{uuid.uuid4().hex}.{checked.extension}"


def content_type_of(path: str) -> str:
    return CONTENT_TYPES.get(path.rpartition(".")[2].lower(), "application/octet-stream")


def delete_quietly(names: list[str]) -> None:
    """Remove files stored by a write that was then rolled back."""
    for name in names:
        with contextlib.suppress(OSError):  # best effort: an orphan file is harmless
            default_storage.delete(name)
