"""Partner alerts: a partners file (partners.py) says who gets which alerts, in which format, where;
`send_alerts` (send.py) delivers what is new or changed per partner, to a directory or a signed webhook
(webhook.py), recording every delivery in the store (crawler/alertstate.py). Schema and behaviour: README.md here.
"""
from .partners import Partner, Partners, PartnersError, load_partners
from .send import PartnerResult, send_alerts

__all__ = ["Partner", "Partners", "PartnersError", "PartnerResult", "load_partners", "send_alerts"]
