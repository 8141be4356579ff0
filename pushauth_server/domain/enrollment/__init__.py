"""Enrollment: single-use tokens issued to relying parties, redeemed by devices with a key proof."""
