"""Datasette plugin: the case page of one ad, its verdict form, and the ads sharing a contact.

- GET  /-/lurewatch/ad/<id>           the case page (templates/case_ad.html, data from output/review/casepage.py)
- POST /-/lurewatch/ad/<id>/verdict   record a verdict (fields verdict, note, csrftoken) as the logged-in actor;
                                      needs permission `lurewatch-record-verdict`; redirects back to the case page
- GET  /-/lurewatch/contact/<id>      every ad naming the contact of that contacts row

Anonymous visitors are sent to /-/login (HTML) or refused (POST). CSRF tokens are checked by Datasette's
asgi-csrf before a POST reaches us.
"""
from __future__ import annotations

import asyncio

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from output.review.access import may_get, may_view as _may_view
from output.review import casepage

RECORD_VERDICT = "lurewatch-record-verdict"
CASE_PATH = "/-/lurewatch/ad/{}"


@hookimpl
def register_routes():
    return [
        (r"^/-/lurewatch/ad/(?P<ad_id>\d{1,18})$", case_page),
        (r"^/-/lurewatch/ad/(?P<ad_id>\d{1,18})/verdict$", record_verdict),
        (r"^/-/lurewatch/contact/(?P<contact_id>\d{1,18})$", contact_page),
    ]


def _database(datasette):
    return datasette.get_database()


async def case_page(datasette, request):
    refused = await may_get(datasette, request)
    if refused:
        return refused
    ad_id = int(request.url_vars["ad_id"])
    db = _database(datasette)
    case = await db.execute_fn(lambda conn: casepage.build_case(conn, ad_id))
    if case is None:
        raise NotFound(f"No ad with id {ad_id}")
    may_record = await datasette.permission_allowed(request.actor, RECORD_VERDICT, default=False)
    return Response.html(await datasette.render_template("case_ad.html", {
        **case,
        "database": db.name,
        "may_record": may_record,
        "read_only": not db.is_mutable,
        "verdict_action": datasette.urls.path(CASE_PATH.format(ad_id) + "/verdict"),
        "case_path": lambda other: datasette.urls.path(CASE_PATH.format(int(other))),
        "contact_path": lambda contact_id: datasette.urls.path(f"/-/lurewatch/contact/{int(contact_id)}"),
        "campaign_path": lambda campaign_id: datasette.urls.path(f"/-/lurewatch/campaign/{int(campaign_id)}"),
    }, request=request))


async def record_verdict(datasette, request):
    if request.method != "POST":
        return Response.text("Use the form on the case page to record a verdict.", status=405)
    if request.actor is None:
        return Response.text("Log in to record a verdict.", status=403)
    if not await datasette.permission_allowed(request.actor, RECORD_VERDICT, default=False):
        return Response.text("Your account may read ads but not record verdicts.", status=403)
    ad_id = int(request.url_vars["ad_id"])
    db = _database(datasette)
    if not db.is_mutable or not db.path:
        return Response.text("This database is served read-only: verdicts cannot be recorded.", status=409)
    if not (await db.execute("select 1 from ads where id = ?", [ad_id])).rows:
        raise NotFound(f"No ad with id {ad_id}")
    form = await request.post_vars()
    verdict = (form.get("verdict") or "").strip()
    note = (form.get("note") or "").strip()
    try:
        await asyncio.to_thread(casepage.record_verdict, db.path, ad_id, verdict,
                                str(request.actor.get("id") or ""), note)
    except ValueError as exc:  # crawler.store.ReviewInputError is a ValueError too
        return Response.text(f"Verdict not recorded: {exc}", status=400)
    datasette.add_message(request, f"Verdict recorded: {casepage.VERDICT_LABELS.get(verdict, verdict)}.")
    return Response.redirect(datasette.urls.path(CASE_PATH.format(ad_id)) + "#verdict")


async def contact_page(datasette, request):
    refused = await _may_view(datasette, request)
    if refused:
        return refused
    contact_id = int(request.url_vars["contact_id"])
    found = await _database(datasette).execute_fn(lambda conn: casepage.contact_ads(conn, contact_id))
    if found is None:
        raise NotFound(f"No contact with id {contact_id}")
    return Response.html(await datasette.render_template("case_contact.html", {
        **found,
        "case_path": lambda other: datasette.urls.path(CASE_PATH.format(int(other))),
    }, request=request))
