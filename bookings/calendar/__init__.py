"""iCalendar files, feeds and add-to-calendar links."""
