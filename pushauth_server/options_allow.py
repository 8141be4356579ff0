"""``OPTIONS`` answers that list every method of a path.

Litestar (2.x) builds a path's automatic ``OPTIONS`` handler when the first handler of that path
is registered, and its ``Allow`` header keeps naming only the methods known then: a path served
by ``GET`` and ``POST`` (``/v1/apps``) answered ``Allow: OPTIONS, POST``. RFC 9110 §9.3.7 (and the
fuzz run) want every method, so, once the app is built, each automatic handler is pointed at the
route it finally belongs to.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute


def point_options_at_their_routes(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fn = getattr(handler.fn, "__func__", handler.fn)
            code = getattr(fn, "__code__", None)
            if (
                handler.http_methods == {"OPTIONS"}
                and code is not None
                and code.co_name == "options_handler"
                and code.co_freevars == ("self",)
                and fn.__closure__ is not None
            ):
                fn.__closure__[0].cell_contents = route


__all__ = ["point_options_at_their_routes"]
