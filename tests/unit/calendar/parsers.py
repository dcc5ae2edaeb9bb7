"""Reading our files back with the independent parser (vobject) as a fresh reader would."""

from __future__ import annotations

import vobject
import vobject.icalendar


def vobject_read(data: bytes | str):
    """Parse one VCALENDAR with vobject, using the VTIMEZONEs in this file.

    vobject keeps the first definition it saw of each TZID for the life of
    the process; forgetting them first makes every parse read its own file.
    """
    registry = getattr(vobject.icalendar, "__tzidMap")
    for tzid in [key for key in registry if key != "UTC"]:
        del registry[tzid]
    return vobject.readOne(data.decode() if isinstance(data, bytes) else data)
