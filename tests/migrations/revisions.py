"""The revisions after the baseline, in order: written out, so a new migration is a deliberate
change of these tests (add its id here)."""

LATER = ("0002_hot_path_and_audit_chain", "0003_applications", "0004_webhooks")
