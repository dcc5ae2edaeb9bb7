"""VTIMEZONE components that every calendar client reads the same way.

`icalendar`'s own `add_missing_timezones()` writes each zone as long RDATE
lists. dateutil (behind vobject, and so behind several clients and sync
tools) reads those wrongly: it put every Europe/London time in BST, winter
included. Outlook is also known to prefer the RRULE form it writes itself.
So here a zone's transitions in the years the file covers are found from
the IANA database and written as one yearly RRULE per kind of change
(FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU for the UK) when the rule holds in every
year covered, and otherwise as one component per transition (DTSTART only),
which every reader understands. A zone without changes gets one STANDARD.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

_WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@dataclass(frozen=True)
class _Transition:
    onset: datetime  # naive local wall time, in the offset before the change (as DTSTART wants)
    offset_from: timedelta
    offset_to: timedelta
    is_dst: bool
    name: str


def _state(zone: ZoneInfo, instant: datetime) -> tuple[timedelta, timedelta, str]:
    local = instant.astimezone(zone)
    return local.utcoffset() or timedelta(0), local.dst() or timedelta(0), local.tzname() or ""


@lru_cache(maxsize=256)
def _transitions(zone_name: str, first_year: int, last_year: int) -> tuple[_Transition, ...]:
    """Every change of offset or name between 1 January of first_year and the end of last_year (UTC)."""
    zone = ZoneInfo(zone_name)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    found = []
    step = timedelta(hours=6)  # no zone changes twice within six hours
    before = start
    state_before = _state(zone, before)
    while before < end:
        after = before + step
        state_after = _state(zone, after)
        if state_after != state_before:
            low, high = before, after  # bisect to the minute
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if _state(zone, middle) == state_before:
                    low = middle
                else:
                    high = middle
            change = high.replace(second=0, microsecond=0)
            offset_from = state_before[0]
            offset_to, dst, name = state_after
            found.append(
                _Transition(
                    onset=(change + offset_from).replace(tzinfo=None),
                    offset_from=offset_from,
                    offset_to=offset_to,
                    is_dst=dst != timedelta(0),
                    name=name,
                )
            )
        before, state_before = after, state_after
    return tuple(found)


def _byday_options(onset: datetime) -> set[str]:
    """The BYDAY values that name this day in its month: '2SU', and '-1SU' when it is the last."""
    weekday = _WEEKDAYS[onset.weekday()]
    options = {f"{(onset.day - 1) // 7 + 1}{weekday}"}
    if onset.day + 7 > calendar.monthrange(onset.year, onset.month)[1]:
        options.add(f"-1{weekday}")
    return options


def _component(transition: _Transition, rrule: dict | None = None):
    component = TimezoneDaylight() if transition.is_dst else TimezoneStandard()
    component.add("dtstart", transition.onset)
    component.add("tzoffsetfrom", transition.offset_from)
    component.add("tzoffsetto", transition.offset_to)
    if transition.name:
        component.add("tzname", transition.name)
    if rrule:
        component.add("rrule", rrule)
    return component


def _yearly_rules(transitions: tuple[_Transition, ...], years: range) -> list | None:
    """One RRULE component per kind of change, if every kind happens once a year by a fixed rule."""
    groups: dict[tuple, list[_Transition]] = {}
    for transition in transitions:
        key = (
            transition.is_dst,
            transition.offset_from,
            transition.offset_to,
            transition.name,
            transition.onset.month,
            transition.onset.time(),
            transition.onset.weekday(),
        )
        groups.setdefault(key, []).append(transition)
    components = []
    for group in groups.values():
        if sorted(t.onset.year for t in group) != list(years):
            return None
        common = set.intersection(*(_byday_options(t.onset) for t in group))
        if not common:
            return None
        byday = "-1" + _WEEKDAYS[group[0].onset.weekday()] if any(c.startswith("-1") for c in common) else min(common)
        first = min(group, key=lambda t: t.onset)
        components.append(_component(first, {"freq": "yearly", "bymonth": first.onset.month, "byday": byday}))
    return components


def vtimezone(zone_name: str, first: datetime, last: datetime) -> Timezone:
    """A VTIMEZONE for `zone_name` that is right for every time from `first` to `last` (and a year either side)."""
    years = range(first.year - 1, last.year + 2)
    transitions = _transitions(zone_name, years.start, years.stop - 1)
    timezone = Timezone()
    timezone.add("tzid", zone_name)
    if not transitions:
        offset, dst, name = _state(ZoneInfo(zone_name), first)
        still = _Transition(datetime(1970, 1, 1), offset, offset, dst != timedelta(0), name)
        timezone.add_component(_component(still))
        return timezone
    for component in _yearly_rules(transitions, years) or [_component(t) for t in transitions]:
        timezone.add_component(component)
    return timezone
