"""``pushauth-pam``: the command PAM runs (``auth``), and the commands that set it up.

``auth`` never prints a traceback: anything unexpected is logged to syslog with its traceback,
the user sees one line, and the answer is a denial (exit 3).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path
from types import FrameType

from pushauth_pam.config import DEFAULT_CONFIG_PATH

__all__ = ["main", "run"]

_DESCRIPTION = """\
Push approval for Unix logins (sudo, su, sshd) through PAM.

PAM runs `pushauth-pam auth` through pam_pushauth.so, which `pushauth-pam install` builds and
installs. See docs/pam.md for the PAM lines and the configuration file.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pushauth-pam",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    auth = commands.add_parser(
        "auth",
        help="what pam_pushauth.so runs: push, wait, exit 0 only on approval",
        description="Run by pam_pushauth.so with PAM_USER, PAM_SERVICE, PAM_RHOST, PAM_TTY in "
        "the environment; talks to the module on stdin/stdout. Exit codes: 0 allow, 1 deny, "
        "2 server unreachable (failmode secure), 3 configuration error, 4 unknown user.",
    )
    check = commands.add_parser(
        "check", help="check the configuration file and say what is wrong with it"
    )
    for sub in (auth, check):
        sub.add_argument(
            "--config",
            type=Path,
            default=DEFAULT_CONFIG_PATH,
            help=f"the configuration file (default {DEFAULT_CONFIG_PATH})",
        )
    auth.add_argument(
        "--log-file",
        type=Path,
        help="also append decisions to this file (for a configuration that cannot be read)",
    )
    install = commands.add_parser(
        "install",
        help="build pam_pushauth.so (gcc, libpam0g-dev) and install it",
        description="Compile pam_pushauth.so with the path of this pushauth-pam inside and "
        "install it into the PAM module directory. Run as root.",
    )
    install.add_argument(
        "--module-dir", type=Path, help="where to install (default: beside pam_unix.so)"
    )
    install.add_argument(
        "--program", type=Path, help="the pushauth-pam the module runs (default: this one)"
    )
    install.add_argument("--cc", default="gcc", help="the C compiler (default gcc)")
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # cancel the challenge on the way out


def _auth(config_path: Path, log_file: Path | None) -> int:
    from pushauth_pam.api import RelyingPartyApi
    from pushauth_pam.audit import DecisionLog
    from pushauth_pam.authenticate import EXIT_CONFIG, Authenticator
    from pushauth_pam.config import load_config
    from pushauth_pam.conversation import Conversation, ConversationClosed
    from pushauth_pam.errors import ConfigError
    from pushauth_pam.request import PamRequest

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    request = PamRequest.from_environment()
    log = DecisionLog(log_file)
    conversation = Conversation()
    try:
        config = load_config(config_path)
        if config.log_file is not None and log_file is None:
            log.log_file = config.log_file
        api = RelyingPartyApi(
            server=config.server,
            api_key=config.api_key,
            timeout=config.https_timeout,
            ca_file=str(config.ca_file) if config.ca_file else None,
        )
        return Authenticator(
            config=config, request=request, conversation=conversation, log=log, api=api
        ).run()
    except ConfigError as exc:
        log.record("error", request, reason=f"config: {exc}")
    except Exception as exc:
        import syslog
        import traceback

        log.record("error", request, reason=f"internal: {type(exc).__name__}: {exc}")
        for line in traceback.format_exc().splitlines():
            syslog.syslog(syslog.LOG_ERR, line)
    with contextlib.suppress(ConversationClosed):
        conversation.error("pushauth: push sign-in is unavailable (see the system log); denied.")
    return EXIT_CONFIG


def _check(config_path: Path) -> int:
    from pushauth_pam.config import load_config
    from pushauth_pam.errors import ConfigError

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"pushauth-pam: {exc}", file=sys.stderr)
        return 1
    print(f"{config_path}: OK (server {config.server}, failmode {config.failmode})")
    return 0


def _install(module_dir: Path | None, program: Path | None, cc: str) -> int:
    from pushauth_pam.install import (
        build_module,
        check_program,
        default_module_dir,
        default_program,
    )

    program = program or default_program()
    target = build_module(destination=module_dir or default_module_dir(cc), program=program, cc=cc)
    print(f"Installed {target} (it runs {program} auth).")
    for problem in check_program(program):
        print(f"Warning: the module will refuse to run it: {problem}.", file=sys.stderr)
    print("Next: write /etc/pushauth/pam.toml and add the auth line (docs/pam.md).")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "auth":
        return _auth(args.config, args.log_file)
    if args.command == "check":
        return _check(args.config)
    return _install(args.module_dir, args.program, args.cc)


def run() -> None:
    sys.exit(main())
