"""The audit trail: every security event, appended and never changed, with signed receipts."""
