"""The QR code printed on a report: an inline SVG (``qrcode``'s SVG path image, no PIL needed)
pointing to the report's verification page."""

from __future__ import annotations

import re

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.urls import reverse

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def verify_path(number: str) -> str:
    return reverse("public:verify_report", args=[number])


def verify_url(number: str) -> str:
    """Absolute when ``PORTAL_BASE_URL`` is set (what a phone needs), else the path alone."""
    base = (getattr(settings, "PORTAL_BASE_URL", "") or "").rstrip("/")
    return base + verify_path(number)


def svg(data: str, *, size_mm: int = 28) -> str:
    """An ``<svg>`` element (no XML declaration) drawing ``data`` as a QR code, ``size_mm`` wide.
    Medium error correction survives a crease or a smudge on a printed page."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    markup = _XML_DECLARATION.sub("", image.to_string(encoding="unicode"))
    # Fixed physical size whatever the module count; the viewBox keeps the drawing's proportions.
    return re.sub(
        r'width="[^"]*" height="[^"]*"', f'width="{size_mm}mm" height="{size_mm}mm"', markup, count=1
    )
