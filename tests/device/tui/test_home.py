"""The home screen says whether requests can arrive, and why not; accounts enrolled by the
commands while the app runs appear in it."""

from __future__ import annotations

from pushauth_device.accounts import Account, AccountStore
from pushauth_device.tui.app import AuthenticatorApp
from pushauth_device.tui.screens.home import HomeScreen, banner
from pushauth_device.tui.state import ConnectionState
from pushauth_device.tui.widgets.accounts_table import AccountsTable, problem_lines
from tests.device.conftest import RelyingParty, fresh_user, wait_until
from tests.device.tui.helpers import wait_connected

PLAIN = Account(
    credential_id="cr_p",
    user_id="paul",
    server_url="http://h",
    origin="http://h",
    device_name="d",
    created_at_ms=0,
)
PINNED = Account(
    credential_id="cr_q",
    user_id="quinn",
    server_url="http://h",
    origin="http://h",
    device_name="d",
    created_at_ms=0,
    require_pin=True,
)
KEYRING_DOWN = (
    "The keyring could not be read (NoKeyringError: no keyring backend is available in this "
    "session). The app and the pushauth-device commands must use the same unlocked keyring, "
    "so run them in the same D-Bus session. Then press r to try again."
)


def test_never_waiting_for_requests_when_no_account_can_connect() -> None:
    states = {"cr_p": ConnectionState(kind="offline", detail=KEYRING_DOWN)}
    text, style = banner([PLAIN], states)
    assert "Waiting for sign-in requests" not in text
    assert "No account can receive" in text
    assert style == "bad"
    # The whole reason is shown (wrapped below the table), not cut to a cell.
    [line] = problem_lines([PLAIN], states, tz=None)
    assert KEYRING_DOWN in line.plain


def test_a_pin_account_says_press_u() -> None:
    text, _ = banner([PINNED], {"cr_q": ConnectionState(kind="locked")})
    assert "Not receiving requests yet" in text
    assert "Press u" in text
    text, style = banner(
        [PLAIN, PINNED],
        {"cr_p": ConnectionState(kind="connected"), "cr_q": ConnectionState(kind="locked")},
    )
    assert text.startswith("Waiting for sign-in requests")
    assert "Press u to unlock quinn @ http://h" in text
    assert style == "ok"


async def test_an_account_enrolled_by_the_command_appears_in_the_running_app(
    rp: RelyingParty, store: AccountStore
) -> None:
    first = fresh_user("running")
    await rp.enroll(store, first)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        assert isinstance(app.screen, HomeScreen)
        # The application it enrolled through, as the server named it at registration.
        table = app.home.query_one(AccountsTable)
        assert [cell.plain for cell in table.get_row_at(0)][:3] == [
            first,
            "● connected",
            "Operator",
        ]
        # What `pushauth-device enroll` does in another process: write the accounts file.
        added = await rp.enroll(AccountStore(store.home), fresh_user("later"))
        await wait_until(pilot, lambda: app.account(added.credential_id) is not None, "reload")
        await wait_connected(pilot, app, count=2)
        # ...and one removed by `pushauth-device revoke` leaves.
        store.remove(added.credential_id)
        await wait_until(pilot, lambda: len(app.accounts) == 1, "the removal")
        assert added.credential_id not in app.states


def test_one_reason_for_several_accounts_is_said_once() -> None:
    other = Account(
        credential_id="cr_o",
        user_id="olga",
        server_url="http://h",
        origin="http://h",
        device_name="d",
        created_at_ms=0,
    )
    down = ConnectionState(kind="offline", detail=KEYRING_DOWN)
    [line] = problem_lines([PLAIN, other], {"cr_p": down, "cr_o": down}, tz=None)
    assert line.plain.startswith("● paul @ http://h, olga @ http://h: The keyring")


async def test_a_damaged_accounts_file_is_said_on_the_home_screen(store: AccountStore) -> None:
    store.home.mkdir(parents=True)
    store.path.write_text("{not json", encoding="utf-8")
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: app.home.is_mounted, "home")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)  # not the enrollment form over it
        banner_text = str(app.home.query_one("#idle").render())
        assert "cannot be read" in banner_text
        assert app.return_code is None
