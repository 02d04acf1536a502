"""Dates and numbers as a Swedish or an English reader expects them (Babel's CLDR data):
``23 nov. 2026 14:05`` and ``1,5`` in Swedish, ``Nov 23, 2026, 2:05 PM`` and ``1.5`` in English.
Times are shown in the regions' time zone, Europe/Stockholm."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

LOCALES = {"sv": "sv_SE", "en": "en_GB"}
ZONE = ZoneInfo("Europe/Stockholm")


def _parse(value: str | dt.datetime) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        when = value
    else:
        try:
            when = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class Formatter:
    def __init__(self, lang: str) -> None:
        self.locale = Locale.parse(LOCALES.get(lang, "en_GB"))

    def datetime(self, value: str | dt.datetime) -> str:
        """An ISO time in Stockholm time, medium length; unparsable text is shown as it is."""
        when = _parse(value)
        if when is None:
            return str(value)
        shown = format_datetime(when, "medium", tzinfo=ZONE, locale=self.locale)
        return f"{shown} {format_datetime(when, 'zzz', tzinfo=ZONE, locale=self.locale)}"

    def lastlog(self, text: str) -> str:
        """A time as ``lastlog`` prints it (``Mon Nov 23 22:58:01 +0000 2026``), localised;
        any other text as it is."""
        try:
            when = dt.datetime.strptime(text.strip(), "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            return text
        return self.datetime(when)

    def date(self, value: str | dt.date) -> str:
        if isinstance(value, dt.date):
            return format_date(value, "long", locale=self.locale)
        try:
            return format_date(dt.date.fromisoformat(value), "long", locale=self.locale)
        except ValueError:
            return value

    def number(self, value: float, digits: int = 1) -> str:
        return format_decimal(round(value, digits), locale=self.locale)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self.locale)
