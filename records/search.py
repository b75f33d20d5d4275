"""Chinese and English search on core PostgreSQL.

PostgreSQL's own parsers do not segment Chinese, and the embedded database ships no extension such
as zhparser or pg_trgm. So documents are cut here: every run of CJK characters becomes its
overlapping bigrams (腾讯科技 -> 腾讯 讯科 科技), every Latin word or number becomes a word, and the
tokens with their positions form a ``simple`` tsvector kept in a GIN index. A query is cut the same
way; the bigrams of one run are joined with the phrase operator ``<->``, so "腾讯科技" only matches
those four characters in a row (PostgreSQL rechecks positions on the heap row). Two characters — the
shortest useful Chinese query — are a single bigram look-up. A Latin word matches the words that
begin with it (``tsquery``) or, in the public search, whole words first (``whole_tsquery``): there,
only words that match no whole word match as the start of words.

The SQL functions below are installed by ``records`` migration 0001 and must stay in step with
:func:`tokens` (a test checks that they agree).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQueryField
from django.db.models import BooleanField, Expression, F, FloatField, Func, TextField, Value

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_SQL = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # the same ranges as PostgreSQL regex escapes
_TOKEN_RE = re.compile(f"[{CJK}]+|[a-z0-9]+")
_USCC_RE = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{18}$")

# A constant: nothing from a request is ever interpolated into it.
SQL_FUNCTIONS = rf"""
CREATE OR REPLACE FUNCTION cp_search_tokens(doc text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  result text[] := '{{}}';
  piece text;
  n int;
BEGIN
  FOR piece IN SELECT m[1] FROM regexp_matches(lower(doc), '([{CJK_SQL}]+|[a-z0-9]+)', 'g') AS m LOOP
    n := char_length(piece);
    IF piece ~ '^[a-z0-9]' OR n = 1 THEN
      result := result || piece;
    ELSE
      FOR i IN 1 .. n - 1 LOOP
        result := result || substr(piece, i, 2);
      END LOOP;
    END IF;
  END LOOP;
  RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION cp_search_vector(VARIADIC docs text[]) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(string_agg('''' || t.tok || ''':' || least(t.pos, 16383), ' ')::tsvector, ''::tsvector)
  FROM unnest(cp_search_tokens(array_to_string(docs, ' '))) WITH ORDINALITY AS t(tok, pos)
$$;
"""  # noqa: S608

SQL_DROP = """
DROP FUNCTION IF EXISTS cp_search_vector(VARIADIC text[]);
DROP FUNCTION IF EXISTS cp_search_tokens(text);
"""


def tokens(text: str) -> list[str]:
    """The tokens :sql:`cp_search_tokens` produces for ``text``."""
    out: list[str] = []
    for piece in _TOKEN_RE.findall(text.lower()):
        if piece[0].isascii() or len(piece) == 1:
            out.append(piece)
        else:
            out.extend(piece[i : i + 2] for i in range(len(piece) - 1))
    return out


@dataclass(frozen=True)
class ParsedQuery:
    """What a search box string asks for."""

    text: str
    code: str | None  # a well-formed unified social credit code, matched exactly
    tsquery: str | None  # for the GIN index; None when nothing indexable was typed
    needs_substring_scan: bool  # a lone CJK character: bigrams cannot find it
    # The same with each Latin word matched whole ("chengmin", not "chengming"); ``tsquery`` matches
    # words that begin with it. Equal to ``tsquery`` when no Latin word was typed.
    whole_tsquery: str | None = None

    @property
    def has_prefixes(self) -> bool:
        return self.whole_tsquery != self.tsquery

    @property
    def is_empty(self) -> bool:
        return not self.code and not self.tsquery and not self.needs_substring_scan


def parse(text: str) -> ParsedQuery:
    text = " ".join(text.split())[:200]
    upper = text.replace(" ", "").upper()
    code = upper if _USCC_RE.match(upper) else None
    parts: list[str] = []
    whole: list[str] = []
    lone_cjk = False
    for piece in _TOKEN_RE.findall(text.lower()):
        if piece[0].isascii():
            parts.append(f"'{piece}':*")
            whole.append(f"'{piece}'")
        elif len(piece) == 1:
            lone_cjk = True
        else:
            parts.append("(" + " <-> ".join(f"'{piece[i : i + 2]}'" for i in range(len(piece) - 1)) + ")")
            whole.append(parts[-1])
    return ParsedQuery(
        text=text,
        code=code,
        tsquery=" & ".join(parts) if parts else None,
        needs_substring_scan=lone_cjk and not parts,
        whole_tsquery=" & ".join(whole) if whole else None,
    )


def index_tsquery(text: str, *, whole: bool, leave_out: frozenset[str]) -> str | None:
    """The query's tokens joined by AND for a GIN look-up, without the tokens in ``leave_out``
    (tokens so common that reading their entries costs more than checking the rows found by the
    others). None when that leaves out nothing, or everything: then the query itself is the look-up.
    The caller checks the whole query on the rows found (phrases, and the tokens left out)."""
    kept: list[str] = []
    left_out = False
    for piece in _TOKEN_RE.findall(" ".join(text.split())[:200].lower()):
        if piece[0].isascii():
            tokens = [(piece, f"'{piece}'" if whole else f"'{piece}':*")]
        elif len(piece) == 1:
            continue
        else:
            tokens = [(piece[i : i + 2], f"'{piece[i : i + 2]}'") for i in range(len(piece) - 1)]
        for token, term in tokens:
            if token in leave_out:
                left_out = True
            elif term not in kept:
                kept.append(term)
    return " & ".join(kept) if left_out and kept else None


def tsquery(parsed: ParsedQuery, *, whole: bool = False) -> Expression:
    """The parsed query as a tsquery literal (no parser in between, so tokens stay as cut); with
    ``whole``, Latin words matched whole."""
    return Func(
        Value(parsed.whole_tsquery if whole else parsed.tsquery, output_field=TextField()),
        template="%(expressions)s::tsquery",
        output_field=SearchQueryField(),
    )


class _Matches(Func):
    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def matches(parsed: ParsedQuery, field: str = "search_vector", *, whole: bool = False) -> Expression:
    """``field @@ query`` as a filter expression (served by the GIN index)."""
    return _Matches(F(field), tsquery(parsed, whole=whole))


def rank(parsed: ParsedQuery, field: str = "search_vector") -> Expression:
    return Func(F(field), tsquery(parsed), function="ts_rank_cd", output_field=FloatField())
