"""The full-screen authenticator (Textual): ``pushauth-device`` with no arguments."""

__all__: list[str] = []
