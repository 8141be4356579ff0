"""Devices: a user's enrolled credentials, listing and revocation."""
