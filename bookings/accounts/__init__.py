"""Users, roles, login, password reset and API tokens."""
