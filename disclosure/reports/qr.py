"""The QR code printed on a report, pointing to the report's verification page: a PNG of one pixel
per module, inlined as a ``data:`` URI (WeasyPrint reads it in a fraction of the time an SVG path of
some three hundred squares takes, and the page scales it without smoothing)."""

from __future__ import annotations

import base64
import io

import qrcode
from qrcode.image.pil import PilImage

from credit_portal import links

BORDER = 2  # modules of quiet zone around the code


def verify_path(number: str) -> str:
    """The verification page's path, for links inside the portal."""
    return links.Route("public:verify_report", number).path()


def verify_url(number: str) -> str:
    """The verification page's full address at the portal's public address (SITE_URL): what the QR
    code holds and the paper prints, so that a phone or a reader of the paper reaches it."""
    return links.absolute(verify_path(number))


def _code(data: str, **options) -> qrcode.QRCode:
    # Medium error correction survives a crease or a smudge on a printed page.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER, **options)
    code.add_data(data)
    code.make(fit=True)
    return code


def matrix(data: str) -> list[list[bool]]:
    """The code's modules, the quiet zone included, row by row (True: dark)."""
    return _code(data).get_matrix()


def png(data: str) -> bytes:
    """The code as a black-and-white PNG, one pixel per module."""
    out = io.BytesIO()
    _code(data, box_size=1, image_factory=PilImage).make_image().save(out, format="PNG")
    return out.getvalue()


def png_data_uri(data: str) -> str:
    return "data:image/png;base64," + base64.b64encode(png(data)).decode("ascii")
