"""Server settings for tests: only the values a test passes, never the developer's environment.

``Settings()`` reads ``PUSHAUTH_*`` variables and ``./.env``; a test that used it would pass or
fail depending on who runs it and from where. :class:`TestSettings` reads neither.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from pushauth_server.settings import Settings


class TestSettings(Settings):
    """:class:`Settings` built from its keyword arguments and defaults alone."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)
