"""Email templates and the outbox. Knows nothing of the areas that write to it."""
