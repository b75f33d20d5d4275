"""Text that people and systems type into the portal: what no door accepts.

Invisible characters change what a reader sees without showing themselves: a bidirectional
override (U+202E) reverses the rest of a line in the PDF of a credit report, a zero-width space
(U+200B) splits "腾讯" so that the search no longer finds it, a lone surrogate cannot even be
stored. They are refused — never silently stripped, which would change what was typed without
saying so — with an error naming the character, so the person can find it and type the text again.

One rule for every door (forms, files, the API): ``refuse_invisible`` is called by the services'
text cleaning (``records.fields.clean_text`` and the registry's name checks), so whatever reaches a
service through any door meets it.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Free text (facts, grounds, answers) may run over lines; names and numbers may not.
LINE_BREAKS = frozenset("\t\n\r")
# Invisible and format characters: controls (Cc), format characters such as the bidirectional
# marks and overrides, zero-width spaces and joiners, the BOM and the word joiner (Cf), lone
# surrogates (Cs) and the Unicode line and paragraph separators (Zl, Zp).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_CONTROL_NAMES = {0x00: "NULL", 0x09: "CHARACTER TABULATION", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN"}


def character_name(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: how an error names a character."""
    code = ord(char)
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(code, "")
    if not name:
        category = unicodedata.category(char)
        name = {"Cc": "CONTROL CHARACTER", "Cs": "SURROGATE"}.get(category, category)
    return f"U+{code:04X} {name}"


def first_invisible(text: str, *, single_line: bool = False) -> tuple[int, str] | None:
    """(position, character) of the first character ``refuse_invisible`` refuses, or None."""
    for position, char in enumerate(text):
        if char.isprintable() or char == " ":  # the common case, without a category look-up
            continue
        if char in LINE_BREAKS and not single_line:
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return position, char
    return None


def invisible_error(text: str, *, single_line: bool = False) -> str | None:
    """The message ``refuse_invisible`` would raise for ``text``, or None when it is clean."""
    try:
        refuse_invisible(text, single_line=single_line)
    except ValidationError as exc:
        return exc.messages[0]
    return None


def refuse_invisible(text: str, *, single_line: bool = False) -> str:
    """Return ``text`` unchanged, or raise ``ValidationError`` naming the first invisible control
    character in it (``single_line``: tabs and line breaks too, for names and numbers)."""
    found = first_invisible(text, single_line=single_line)
    if found is None:
        return text
    position, char = found
    if char == "\x00":
        raise ValidationError(_("Null characters are not allowed."), code="null_characters_not_allowed")
    raise ValidationError(
        _(
            "Contains an invisible character, %(character)s, at position %(position)d: delete it (or type the text again) and resubmit."
        ),
        code="invisible_character",
        params={"character": character_name(char), "position": position + 1},
    )


def refuse_invisible_in_name(text: str) -> str:
    """``refuse_invisible`` for a one-line value (a name, a number); usable as a field validator."""
    return refuse_invisible(text, single_line=True)
