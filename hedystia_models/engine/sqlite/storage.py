"""How SQLite stores each kind of value: its declared type and its codecs.

The model stage (:mod:`hedystia_models.model.typemap`) decides the *kind* of a field from its
annotation (``decimal``, ``datetime``, ``json``, ...); this module says how SQLite declares and
stores that kind: ``Decimal`` as exact text, ``datetime`` as ISO 8601 text (an aware one in
UTC), ``timedelta`` as whole microseconds, ``UUID`` as canonical text, JSON as compact text.
``encode`` turns a validated Python value into something sqlite3 stores exactly; ``decode``
turns what sqlite3 returns back into the Python value. Another engine keeps a table like this
one of its own.

The stored forms are also what ``where`` compares and ``ORDER BY`` sorts, so each is chosen to
sort as its values do: ISO text sorts chronologically because aware values are normalised to
UTC on the way in (as PostgreSQL's ``TIMESTAMPTZ`` does); timedelta microseconds sort as
integers; canonical UUID text, hex and bytes sort as ``UUID`` does. ``Decimal`` text does not
sort as its numbers, and is compared with a collation
(:mod:`hedystia_models.engine.sqlite.collations`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

__all__ = [
    "JSON_TYPE",
    "KIND_STORAGE",
    "UUID_FORMS",
    "Codec",
    "choices_type",
    "decimal_decoder",
    "decode_bool",
    "decode_json",
    "encode_bool",
    "identity",
    "text_type",
    "uuid_storage",
]

Codec = Callable[[Any], Any]


def identity(value: Any) -> Any:
    """The codec of types sqlite3 stores as they are."""
    return value


_MICRO = 1_000_000


def _encode_timedelta(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * _MICRO + value.microseconds


def _decode_timedelta(value: Any) -> Any:
    return timedelta(microseconds=value) if isinstance(value, int) else value


def _decode_datetime(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _decode_date(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _decode_time(value: Any) -> Any:
    return time.fromisoformat(value) if isinstance(value, str) else value


def _decode_decimal(value: Any) -> Any:
    if isinstance(value, str):
        return Decimal(value)
    # A NUMERIC column (Django's DecimalField) keeps 10.00 as the integer 10, 2.5 as a float.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def decimal_decoder(places: int | None) -> Codec:
    """The decimal decoder of a field with ``decimal_places``: what a NUMERIC column gives
    back (``10``) reads with the field's places (``Decimal('10.00')``)."""
    if places is None:
        return _decode_decimal
    quantum = Decimal(1).scaleb(-places)

    def decode(value: Any) -> Any:
        decoded = _decode_decimal(value)
        if isinstance(decoded, Decimal) and decoded.is_finite():
            return decoded.quantize(quantum)
        return decoded

    return decode


#: The stored forms of a UUID: canonical 36-character text, 32 hex digits (Django's
#: ``UUIDField``), or its 16 bytes.
UUID_FORMS = ("hyphenated", "hex", "bytes")


def uuid_storage(form: str) -> tuple[str, Codec, Codec]:
    """The declared type, encoder and decoder of a UUID stored in ``form``."""

    def encode(value: Any) -> Any:
        uuid = UUID(_encode_uuid(value))
        return uuid.hex if form == "hex" else uuid.bytes if form == "bytes" else str(uuid)

    declared = {"hex": "CHAR(32)", "bytes": "BLOB"}.get(form, "TEXT")
    return declared, (_encode_uuid if form == "hyphenated" else encode), _decode_uuid


def _decode_uuid(value: Any) -> Any:
    if isinstance(value, (bytes, memoryview)) and len(value) == 16:
        return UUID(bytes=bytes(value))
    return UUID(value) if isinstance(value, str) else value


def decode_bool(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else value


def decode_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _encode_datetime(value: datetime) -> str:
    """ISO text with a space; an aware value is first converted to UTC, so that stored values
    sort (and compare equal) as the instants they are, whatever offset they were given in."""
    if type(value) is not datetime:  # a subclass, which may write its own ISO text
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        return _in_utc(value).isoformat(sep=" ")
    tz = value.tzinfo
    if tz is None:
        return _iso_text(value)
    if tz is not _UTC:
        if value.utcoffset() is None:  # aware in name only: isoformat writes no offset
            return _iso_text(value)
        value = _in_utc(value)
    return _iso_text(value) + "+00:00"


_UTC = timezone.utc

#: ``f"{n:02d}"`` of each number below 100: what the ISO text of a datetime is made of.
_TWO_DIGITS = [f"{n:02d}" for n in range(100)]


def _iso_text(value: datetime) -> str:
    """``value.isoformat(sep=" ")`` without its UTC offset, for less (the text of an aware
    datetime is about half the time of storing its row)."""
    two = _TWO_DIGITS
    year = value.year
    text = (
        f"{year if year >= 1000 else f'{year:04d}'}-{two[value.month]}-{two[value.day]} "
        f"{two[value.hour]}:{two[value.minute]}:{two[value.second]}"
    )
    micro = value.microsecond
    return f"{text}.{micro:06d}" if micro else text


def _in_utc(value: datetime) -> datetime:
    """``value`` in UTC when it is aware (a ``ValueError`` when that falls outside the years
    datetime holds)."""
    if value.utcoffset() is None:
        return value
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(
            f"{value.isoformat(sep=' ')} falls outside the years 1 to 9999 in UTC, "
            "where aware datetimes are stored"
        ) from None


def _encode_date(value: date) -> str:
    # A datetime is a date too, but its text is not a date's: it is validated instead.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return value.isoformat()


_DAY = 86_400 * _MICRO


def _clock(micro: int) -> time:
    """The UTC time of day ``micro`` microseconds after midnight."""
    seconds, microsecond = divmod(micro, _MICRO)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour, minute, second, microsecond, tzinfo=timezone.utc)


def _encode_time(value: time) -> str:
    """ISO text; an aware value is first converted to UTC, like a datetime. A time has no day
    to move to, so an aware time whose UTC reading falls on the day before or after is
    refused: read back as that time of day it would not equal what was written (Python
    compares aware times by their UTC reading, without wrapping around midnight)."""
    if not isinstance(value, time):
        raise TypeError(f"expected a time, got {type(value).__name__}")
    offset = value.utcoffset()
    if offset:
        reading = ((value.hour * 60 + value.minute) * 60 + value.second) * _MICRO
        utc = reading + value.microsecond - _encode_timedelta(offset)
        if not 0 <= utc < _DAY:
            day = "the day before" if utc < 0 else "the next day"
            raise ValueError(
                f"the aware time {value.isoformat()} is {_clock(utc % _DAY).isoformat()} on "
                f"{day}; times are stored in UTC, without a day: store a datetime, or the "
                "time in UTC"
            )
        value = _clock(utc)
    return value.isoformat()


def _encode_decimal(value: Any) -> str:
    # str() of a bool or of any other object is no number: only numbers are taken as they
    # are, and text (a default written "1.10") is read as a Decimal first.
    if isinstance(value, str):
        return str(Decimal(value))
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
        raise TypeError(f"expected a Decimal, got {type(value).__name__}")
    return str(value)


def _encode_uuid(value: Any) -> str:
    # A string is read as a UUID first, so every spelling of one (upper case, no hyphens, a
    # URN) becomes the canonical text that is stored; anything else raises.
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        return str(UUID(value))
    raise TypeError(f"expected a UUID, got {type(value).__name__}")


def encode_bool(value: Any) -> int:
    return 1 if value else 0


#: kind -> (declared type, encode, decode)
KIND_STORAGE: dict[str, tuple[str, Codec, Codec]] = {
    "boolean": ("BOOLEAN", identity, decode_bool),  # sqlite3 binds bool as 0 / 1
    "integer": ("INTEGER", identity, identity),
    "real": ("REAL", identity, identity),
    "text": ("TEXT", identity, identity),
    "blob": ("BLOB", identity, identity),
    "decimal": ("TEXT", _encode_decimal, _decode_decimal),
    "datetime": ("DATETIME", _encode_datetime, _decode_datetime),
    "date": ("DATE", _encode_date, _decode_date),
    "time": ("TIME", _encode_time, _decode_time),
    "timedelta": ("INTEGER", _encode_timedelta, _decode_timedelta),
    "uuid": ("TEXT", _encode_uuid, _decode_uuid),
}

#: The declared type of a JSON column (dict, list, nested model): compact JSON text.
JSON_TYPE = "TEXT"


def text_type(max_length: int | None) -> str:
    """The declared type of a string field: ``VARCHAR(n)`` with a ``max_length``."""
    return "TEXT" if max_length is None else f"VARCHAR({max_length})"


def choices_type(values: Sequence[Any]) -> str | None:
    """The declared type of an Enum or Literal whose values are ``values`` (``None`` when
    they are not all booleans, all integers or all strings)."""
    if values and all(isinstance(v, bool) for v in values):
        return "BOOLEAN"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "INTEGER"
    if values and all(isinstance(v, str) for v in values):
        return "TEXT"
    return None
