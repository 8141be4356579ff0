"""pushauth-device: plays the phone. Accounts, keys in the OS keyring, approvals."""

__all__: list[str] = []
