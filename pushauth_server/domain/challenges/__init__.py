"""Challenges: created by a relying party, answered by a device, resolved exactly once."""
