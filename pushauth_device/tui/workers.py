"""How the app's components start work without knowing the app: a ``run_worker`` and a ``post``.

The app passes its own :meth:`textual.app.App.run_worker` and
:meth:`textual.message_pump.MessagePump.post_message`; a component holds them as plain
collaborators (no base class, no mixin).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from textual.message import Message
from textual.worker import Worker

__all__ = ["Post", "RunWorker"]

Post = Callable[[Message], object]


class RunWorker(Protocol):
    def __call__(
        self,
        work: Coroutine[Any, Any, None],
        *,
        name: str = "",
        group: str = "default",
        exit_on_error: bool = True,
    ) -> Worker[None]: ...
