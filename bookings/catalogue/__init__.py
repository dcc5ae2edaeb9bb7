"""Events, sessions, ticket types and questions; the public listing and event pages."""
