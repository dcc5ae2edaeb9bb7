"""Waiting list: entries, offers and the sweep."""
