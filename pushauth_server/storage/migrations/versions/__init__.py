"""One module per schema revision, in order (each names its ``down_revision``)."""
