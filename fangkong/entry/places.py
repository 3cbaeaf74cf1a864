"""Places of an itinerary: administrative codes first, names second.

A code is normalised to its significant digits (``310000`` → ``31``, the
province; ``310100`` → ``3101``, the city; ``310115`` the district; nine digits a
street): a listed area contains a place when the place's code starts with the
area's. A place given by name only is looked up in the national table of
administrative divisions (``stdnum``'s ``cn/loc``, the same table the ID-number
check uses) to find its code; a name found nowhere goes to the review queue.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from stdnum import numdb

_DIGITS = re.compile(r"^\d{2,12}$")
_LINE = re.compile(r'^\s*(\d{2}|\d{4}) (?:province|county)="([^"]*)"')
_ENDED = re.compile(r"^\[\d*-\d{4}\]")
_SINCE = re.compile(r"^\[\d{4}-\]")


def normalise_code(raw: str) -> str:
    """The significant digits of an administrative code ('' when empty).

    Raises ValueError for anything but 2 to 12 digits."""
    code = (raw or "").strip()
    if not code:
        return ""
    if not _DIGITS.match(code):
        raise ValueError(code)
    if len(code) > 9:
        code = code[:9] if code[9:] == "0" * (len(code) - 9) else code
    if len(code) in (6, 9):
        head = code[:6]
        if head.endswith("0000"):
            head = head[:2]
        elif head.endswith("00"):
            head = head[:4]
        code = head if len(code) == 6 or code[6:] == "000" else code
    return code


def known_code(code: str) -> bool:
    """Does the national table know the division of this (normalised) code? A
    street code is known when its district is."""
    if len(code) < 2:
        return False
    return code[:6] in _prefixes()


@lru_cache(maxsize=1)
def _prefixes() -> frozenset[str]:
    """Every normalised code of the table and the province/city heads of each."""
    out: set[str] = set()
    for six in _table():
        out.update({six[:2], six[:4], six, normalise_code(six)})
    return frozenset(out)


def _depth(code: str) -> int:
    return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    """Six-digit code → name of every division now in force in the national table
    (``stdnum/cn/loc.dat``: a province line, then its four-digit sub-codes)."""
    path = Path(numdb.__file__).parent / "cn" / "loc.dat"
    out: dict[str, str] = {}
    province = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        code, name = match.group(1), match.group(2)
        ended = _ENDED.match(name)
        if ended:
            continue  # a division abolished since (``[-2010]崇文区``)
        name = _SINCE.sub("", name)
        if len(code) == 2:
            province = code
            out[code + "0000"] = name
        elif province and name not in ("市辖区", "县", "省直辖县级行政区划"):
            out[province + code] = name
    return out


def _table_names(six: str) -> tuple[str, ...]:
    table = _table()
    names = [table.get(six[:2] + "0000", "")]
    if six[2:4] != "00":
        names.append(table.get(six[:4] + "00", ""))
    if six[4:] != "00":
        names.append(table.get(six, ""))
    return tuple(n for n in names if n) if six in table else ()


@lru_cache(maxsize=1)
def _name_index() -> dict[str, list[str]]:
    """Name → the six-digit codes of the divisions so named."""
    index: dict[str, list[str]] = {}
    for code, name in _table().items():
        index.setdefault(name, []).append(code)
    return index


def code_for_name(text: str) -> str:
    """The normalised code of the most specific division named in ``text`` ('' when
    none is, or when the name is shared by divisions that the rest of the text
    does not tell apart)."""
    text = squash(text)
    if not text:
        return ""
    table = _table()
    index = _name_index()
    found = [name for name in index if name and name in text]
    deepest = {name: max(_depth(c) for c in index[name]) for name in found}
    for name in sorted(found, key=lambda n: (-deepest[n], -len(n), n)):
        codes = index[name]
        if len(codes) > 1:
            codes = [
                c
                for c in codes
                if table.get(c[:2] + "0000", "") in text or table.get(c[:4] + "00", "") in text
            ]
        if len(codes) == 1:
            # the most specific: a county beats its city, a city its province
            return normalise_code(codes[0])
    return ""


def names_of(code: str) -> str:
    """The division's names, province first ('' when the table does not know it)."""
    six = (code + "000000")[:6]
    return "".join(_table_names(six))


def squash(text: str) -> str:
    """A name for comparison: without spaces and punctuation, lower case."""
    return re.sub(r"[\s,，。.、·\-_/()（）]+", "", text or "").lower()
