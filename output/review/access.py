"""Who may open the review app's own pages (case, campaign, health): the same rule as Datasette's table pages.

Example: refused = await may_view(datasette, request); if refused: return refused
         refused = await may_get(datasette, request)  # a read-only page: 405 to anything but GET first
"""
from __future__ import annotations

from urllib.parse import quote

from datasette.utils.asgi import Forbidden, Response


async def may_view(datasette, request) -> Response | None:
    """None when the actor may read the database; else a redirect to the login page (anonymous) or 403.

    Example: refused = await may_view(datasette, request)
    """
    if request.actor is None:
        return Response.redirect(datasette.urls.path("/-/login") + "?next=" + quote(request.full_path, safe="/"))
    db = datasette.get_database()
    for action, resource in (("view-instance", None), ("view-database", db.name)):
        if not await datasette.permission_allowed(request.actor, action, resource=resource, default=True):
            raise Forbidden("You may not view this database.")
    return None


async def may_get(datasette, request) -> Response | None:
    """A read-only page: 405 to anything but GET, else what `may_view` says.

    Example: refused = await may_get(datasette, request)
    """
    if request.method != "GET":
        return Response.text("Method not allowed", status=405)
    return await may_view(datasette, request)
