"""pushauth server: the relying-party API, the device API and real-time delivery.

Importing this package imports nothing heavy: the protocol (``pushauth_server.protocol``) and the
client library (``pushauth_server.client``) are shared with the CLI and the device, and must stay
importable without Litestar or SQLAlchemy being loaded.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
