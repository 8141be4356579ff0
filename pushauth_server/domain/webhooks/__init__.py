"""Webhooks: an application's endpoints, the outbox written with each event, and its delivery."""
