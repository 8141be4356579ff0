"""The full-screen authenticator (Textual)."""
