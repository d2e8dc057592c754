"""Who receives an alert: partnerships from configuration, narrowed by explicit recipients."""

from __future__ import annotations

from hotline.fields import Kind
from hotline.handling import Handling
from hotline.settings import Settings


def recipients(settings: Settings, sender: str, kind: Kind, handling: Handling) -> list[str]:
    """Never the sender; TLP:RED only to named agencies (validation already requires names).

    A follow-up goes exactly to the audience it inherited or narrowed to, never "to all".
    """
    if handling.recipients or handling.inherited:
        return [a for a in handling.recipients if settings.may_send(sender, a, kind)]
    if handling.tlp == "red":
        return []
    return [a for a in settings.agency_ids if settings.may_send(sender, a, kind)]


def refused_recipients(
    settings: Settings, sender: str, kind: Kind, named: list[str]
) -> list[dict[str, str]]:
    """Field errors for named recipients the sender may not reach, for a clear 422."""
    errors = []
    for i, agency in enumerate(named):
        if agency == sender:
            why = "an agency cannot send an alert to itself"
        elif agency not in settings.agency_ids:
            why = f"unknown agency '{agency}'"
        elif not settings.may_send(sender, agency, kind):
            why = f"no partnership lets {sender} send {kind} alerts to {agency}"
        else:
            continue
        errors.append({"field": f"recipients.{i}", "message": why, "type": "recipient"})
    return errors
