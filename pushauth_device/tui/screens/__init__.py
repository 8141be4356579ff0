"""Screens of the authenticator, one per module."""

__all__: list[str] = []
