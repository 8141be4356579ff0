"""The ``pushauth`` commands, one module per concern."""
