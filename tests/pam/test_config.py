"""pushauth_pam/config.py: the file is refused when someone else could have written it, and
every setting is checked, so a typo cannot leave a weaker default in place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pushauth_pam.config import load_config
from pushauth_pam.errors import ConfigError
from tests.pam.system import write_config

BASE: dict[str, object] = {"server": "https://push.example.com/", "api_key": "pak_x"}


def config(tmp_path: Path, mode: int = 0o600, **settings: object) -> Path:
    return write_config(tmp_path / "pam.toml", mode=mode, **{**BASE, **settings})


def test_defaults_are_the_safe_ones(tmp_path: Path) -> None:
    loaded = load_config(config(tmp_path))
    assert loaded.server == "https://push.example.com"
    assert loaded.failmode == "secure"
    assert loaded.timeout == 60
    assert loaded.prompt == "auto"
    assert loaded.users == ()
    assert loaded.groups == ()
    assert loaded.pushinfo is False
    assert "pak_x" not in repr(loaded)  # the key never ends up in a log by accident


def test_every_setting_is_read(tmp_path: Path) -> None:
    loaded = load_config(
        config(
            tmp_path,
            failmode="safe",
            users=["alice"],
            groups=["wheel"],
            user_map={"root": "alice"},
            timeout=30,
            https_timeout=3,
            pushinfo=True,
            prompt="always",
            log_file="/var/log/pushauth-pam.log",
            ca_file="/etc/ssl/certs/ca.pem",
        )
    )
    assert (loaded.failmode, loaded.users, loaded.groups) == ("safe", ("alice",), ("wheel",))
    assert loaded.user_map == {"root": "alice"}
    assert (loaded.timeout, loaded.https_timeout, loaded.pushinfo) == (30, 3, True)
    assert loaded.prompt == "always"
    assert loaded.log_file == Path("/var/log/pushauth-pam.log")


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o660])
def test_group_or_world_writable_file_is_refused(tmp_path: Path, mode: int) -> None:
    with pytest.raises(ConfigError, match="group- or world-writable"):
        load_config(config(tmp_path, mode=mode))


def test_writable_directory_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "etc"
    directory.mkdir()
    path = write_config(directory / "pam.toml", **BASE)
    os.chmod(directory, 0o777)
    with pytest.raises(ConfigError, match=r"the directory .* group- or world-writable"):
        load_config(path)


def test_world_readable_file_with_the_key_inline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="world-readable"):
        load_config(config(tmp_path, mode=0o644))


def test_key_file_is_read_and_checked(tmp_path: Path) -> None:
    key = tmp_path / "api-key"
    key.write_text("pak_from_file\n")
    os.chmod(key, 0o600)
    path = write_config(tmp_path / "pam.toml", mode=0o644, server="http://s", api_key_file=key)
    assert load_config(path).api_key == "pak_from_file"
    os.chmod(key, 0o644)
    with pytest.raises(ConfigError, match="world-readable"):
        load_config(path)


@pytest.mark.pam
def test_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = config(tmp_path)
    os.chown(path, 65534, 65534)  # nobody
    with pytest.raises(ConfigError, match="owned by uid 65534"):
        load_config(path)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"failmod": "safe"}, "unknown setting 'failmod'"),
        ({"failmode": "open"}, 'failmode must be "secure" or "safe"'),
        ({"prompt": "sometimes"}, "prompt must be"),
        ({"timeout": 0}, "timeout must be"),
        ({"timeout": 301}, "timeout must be"),
        ({"timeout": True}, "timeout must be"),
        ({"users": "alice"}, "users must be a list"),
        ({"server": "push.example.com"}, "server must start with https://"),
        ({"api_key_file": "/etc/pushauth/key"}, "exactly one of api_key and api_key_file"),
        ({"log_file": "relative.log"}, "log_file must be an absolute path"),
        ({"pushinfo": "yes"}, "pushinfo must be true or false"),
    ],
)
def test_bad_settings_are_refused_with_what_to_fix(
    tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(config(tmp_path, **settings))


def test_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pam.toml"
    path.write_text("server = \n")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_config(tmp_path / "absent.toml")


def test_check_command_says_what_is_wrong(tmp_path: Path) -> None:
    program = [sys.executable, "-m", "pushauth_pam", "check", "--config"]
    good = subprocess.run([*program, str(config(tmp_path))], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    assert "OK" in good.stdout
    bad = subprocess.run(
        [*program, str(config(tmp_path, mode=0o666))], capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "chmod go-w" in bad.stderr
    assert "Traceback" not in bad.stderr
