"""pushauth: the command line that plays the relying party (the web app) and runs the server."""

__all__: list[str] = []
