"""Privacy (UK GDPR): anonymising old attendee data, a person's own data as JSON, closing an account."""
