"""How an alert may be passed on (TLP and recipients), and what a follow-up inherits.

An update or cancel speaks about an alert its recipients already hold, so it keeps that
alert's handling unless it narrows it: a follow-up that omits `tlp` or `recipients` must not
fall back to the defaults (amber, every partner) and carry a TLP:RED subject to agencies the
original never reached. Pure rules: the gateway checks them when it knows the referenced
alert, the stream always.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.alert_in import AlertBody
from hotline.errors import InvalidAlert
from hotline.fields import Tlp

DEFAULT_TLP: Tlp = "amber"
# Higher is more restricted.
_RESTRICTION: dict[Tlp, int] = {"clear": 0, "green": 1, "amber": 2, "red": 3}


@dataclass(frozen=True, slots=True)
class Handling:
    tlp: Tlp
    # Explicit recipients; for an alert an empty list means "every partner" (not for red).
    recipients: list[str]
    inherited: bool = False  # a follow-up: `recipients` is the whole audience, never "all"


def of_alert(body: AlertBody) -> Handling:
    return Handling(body.tlp or DEFAULT_TLP, list(body.recipients or []))


def of_follow_up(body: AlertBody, ref_tlp: Tlp | None, ref_audience: list[str]) -> Handling:
    """The follow-up's handling: the referenced alert's, narrowed as asked; widening is refused.

    `ref_audience` is every agency the referenced alert was routed to.
    """
    ref = ref_tlp or DEFAULT_TLP
    tlp = body.tlp or ref
    if _RESTRICTION[tlp] < _RESTRICTION[ref]:
        why = f"a follow-up cannot widen TLP:{ref.upper()} to TLP:{tlp.upper()}"
        raise InvalidAlert(why, errors=[{"field": "tlp", "message": why, "type": "widening"}])
    if body.recipients is None:
        return Handling(tlp, list(ref_audience), inherited=True)
    wider = [
        {
            "field": f"recipients.{i}",
            "message": f"{agency} did not receive the alert this follow-up references",
            "type": "widening",
        }
        for i, agency in enumerate(body.recipients)
        if agency not in ref_audience
    ]
    if wider:
        raise InvalidAlert("a follow-up cannot reach agencies the alert did not", errors=wider)
    return Handling(tlp, list(body.recipients), inherited=True)
