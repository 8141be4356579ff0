"""Relying-party applications: who is asking, with which scopes, for which users."""
