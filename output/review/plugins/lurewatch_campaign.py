"""Datasette plugin: campaigns (groups of linked ads, crawler/campaigns/) in the review app.

- GET /-/lurewatch/campaigns       every campaign, riskiest and largest first (templates/campaign_list.html)
- GET /-/lurewatch/campaign/<id>   one campaign: its ads (linking to their case pages), sites, languages,
                                   countries, a timeline, its shared contacts and the contact graph drawn as inline
                                   SVG (output/review/svggraph.py); data from output/review/campaignpage.py
- the Datasette menu links to the list.
Same access as the case page: anonymous visitors are sent to /-/login, and the actor must be allowed to view the
database. Server-rendered, no script, nothing loaded from another host; ad text is escaped by Jinja's autoescape.
"""
from __future__ import annotations


from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from output.review.access import may_get
from output.review import campaignpage, svggraph

BASE = "/-/lurewatch"
CASE_PATH = BASE + "/ad/{}"
CAMPAIGN_PATH = BASE + "/campaign/{}"


@hookimpl
def register_routes():
    return [
        (r"^/-/lurewatch/campaigns$", campaigns_view),
        (r"^/-/lurewatch/campaign/(?P<campaign_id>\d{1,18})$", campaign_view),
    ]


@hookimpl
def menu_links(datasette, actor):
    if not actor:
        return None
    return [{"href": datasette.urls.path(f"{BASE}/campaigns"), "label": "Campaigns"}]


def _paths(datasette) -> dict:
    return {
        "case_path": lambda ad_id: datasette.urls.path(CASE_PATH.format(int(ad_id))),
        "campaign_path": lambda campaign_id: datasette.urls.path(CAMPAIGN_PATH.format(int(campaign_id))),
        "campaigns_path": datasette.urls.path(f"{BASE}/campaigns"),
    }


async def campaigns_view(datasette, request):
    refused = await may_get(datasette, request)
    if refused:
        return refused
    found = await datasette.get_database().execute_fn(campaignpage.list_campaigns)
    return Response.html(await datasette.render_template("campaign_list.html", {**found, **_paths(datasette)},
                                                         request=request))


async def campaign_view(datasette, request):
    refused = await may_get(datasette, request)
    if refused:
        return refused
    campaign_id = int(request.url_vars["campaign_id"])
    found = await datasette.get_database().execute_fn(lambda conn: campaignpage.build_campaign(conn, campaign_id))
    if found is None:
        raise NotFound(f"No campaign with id {campaign_id}")
    paths = _paths(datasette)
    graph = svggraph.contact_graph(found["ads"], found["links"], paths["case_path"])
    return Response.html(await datasette.render_template("campaign.html", {**found, **paths, "graph": graph},
                                                         request=request))
