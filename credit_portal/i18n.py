"""Text the system writes, kept so that it can be shown in the reader's language.

A message rendered once and stored (an import's per-row report, a failure) is in the language that
happened to be active when it was written, and a reader of the other language would get it as it
was. What is stored is therefore the message in every language of the portal (``in_each_language``)
and what is shown is the reader's (``pick``). Messages with parameters stay translatable until they
are shown: ``interpolate`` formats a lazy message only when it is turned into text, in the language
active then; ``either`` is a name that exists in both languages (a department, a catalogue item).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise, lazy

# Han characters, the CJK symbols and punctuation block (、。〔〕“” are elsewhere: see CJK_TEXT) and
# the full-width forms (：，（）).
CJK_TEXT = re.compile(
    r"[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)


def language_codes() -> tuple[str, ...]:
    """The portal's languages (``settings.LANGUAGES``), the default one first."""
    codes = [code for code, _name in settings.LANGUAGES]
    default = settings.LANGUAGE_CODE
    return tuple(sorted(codes, key=lambda code: code != default))


def has_cjk(text: Any) -> bool:
    return bool(text) and CJK_TEXT.search(str(text)) is not None


# Punctuation put between pieces of text: full-width in Chinese (（），：；), ASCII with its spaces in
# English.
_PUNCTUATION = {"(": (" (", "（"), ")": (")", "）"), ",": (", ", "，"), ":": (": ", "："), ";": ("; ", "；")}


def punctuation(mark: str) -> str:
    """The mark (``(``, ``)``, ``,``, ``:``, ``;``) as the active language writes it."""
    english, chinese = _PUNCTUATION[mark]
    return english if (translation.get_language() or "").startswith("en") else chinese


def _interpolate(message: Any, params: Any) -> str:
    text = str(message)
    if isinstance(params, dict):
        params = {key: str(value) if isinstance(value, Promise) else value for key, value in params.items()}
    return text % params if params is not None else text


# A lazy string: ``message % params`` done when it is turned into text, in the language active then.
interpolate = lazy(_interpolate, str)


def _either(zh: str, en: str) -> str:
    return en if en and (translation.get_language() or "").startswith("en") else zh


# A name given in both languages, told in the active one (the Chinese when there is no English).
either = lazy(_either, str)


def _joined(separator: str, parts: Any) -> str:
    return separator.join(str(part) for part in parts)


_joined_lazy = lazy(_joined, str)


def joined(separator: str, parts: Any):
    """The (lazy) parts joined by ``separator``, each in the language active when shown."""
    return _joined_lazy(separator, list(parts))


def in_each_language(message: Any) -> dict[str, str]:
    """``{language code: text}`` of a (lazy) message in every language of the portal. Text that is
    already a ``str`` is the same in each (it was rendered before it got here)."""
    if not isinstance(message, Promise):
        return {code: str(message) for code in language_codes()}
    out = {}
    for code in language_codes():
        with translation.override(code):
            out[code] = str(message)
    return out


def pick(value: Any, language: str | None = None) -> str:
    """The text of a stored message for a reader of ``language`` (default: the active one): from a
    ``{language code: text}`` mapping, its language, else the default language's, else any; a plain
    string (stored before messages were kept in every language) as it is."""
    if value is None:
        return ""
    if not isinstance(value, dict):
        return str(value)
    language = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    for code in (language, language.split("-")[0], settings.LANGUAGE_CODE):
        for key, text in value.items():
            if key.lower() == code and text:
                return str(text)
    return next((str(text) for text in value.values() if text), "")
