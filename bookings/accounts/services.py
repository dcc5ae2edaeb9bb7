"""Accounts: creating users and admins, passwords, API tokens."""
