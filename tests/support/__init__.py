"""Real components for tests: PostgreSQL clusters, ports, factories."""
