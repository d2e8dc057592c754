"""Demo outcomes: once the demo's alerts are delivered, a recipient of some of them reports
back what came of each, in its own language, so the sender's console shows the loop closed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from cli.demo.catalog import LANGUAGE
from hotline.credentials import DEMO_PARTNER_PREFIX

# Which outcome each kind of alert gets, and how many alerts are reported on (one per kind).
KIND_FOR = {
    "wanted_person": "located",
    "scam_number": "number_blocked",
    "fraud_pattern": "not_found",
}
NOTES = {
    "vi": {
        "located": "Đã xác định được đối tượng tại Hà Nội; đang xác minh danh tính.",
        "number_blocked": "Nhà mạng đã chặn số này.",
        "not_found": "Đã kiểm tra các tài khoản liên quan, chưa phát hiện giao dịch.",
    },
    "zh": {
        "located": "已在北京西站找到该人员，正在核实身份。",
        "number_blocked": "运营商已封停该号码。",
        "not_found": "已核查相关账户，未发现交易。",
    },
    "ru": {
        "located": "Местонахождение установлено в Москве, личность проверяется.",
        "number_blocked": "Номер заблокирован оператором связи.",
        "not_found": "Связанные счета проверены, операций не обнаружено.",
    },
    "en": {
        "located": "Located; identity being confirmed.",
        "number_blocked": "The carrier has blocked the number.",
        "not_found": "Related accounts checked; no transactions found.",
    },
}
DELIVERY_WAIT_S = 30.0


def planned(posted: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The first (alert id, sender, kind) the demo posted of each kind."""
    out: dict[str, tuple[str, str, str]] = {}
    for alert_id, sender, kind in posted:
        if kind in KIND_FOR and kind not in out:
            out[kind] = (alert_id, sender, kind)
    return list(out.values())


def _key(agency: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_PARTNER_PREFIX}{agency}"}


async def _first_recipient(
    http: httpx.AsyncClient, base: str, alert_id: str, sender: str, stop: asyncio.Event
) -> str | None:
    """The first agency the alert was delivered to, as its sender reads it (None: not in time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELIVERY_WAIT_S
    while not stop.is_set() and loop.time() < deadline:
        try:
            resp = await http.get(f"{base}/v1/alerts/{alert_id}", headers=_key(sender))
            receipts = resp.json().get("receipts", []) if resp.status_code == 200 else []
            if receipts:
                return str(receipts[0]["agency"])
        except (httpx.TransportError, ValueError):
            pass  # the gateway restarting: try again until the deadline
        await asyncio.sleep(0.5)
    return None


async def report_outcomes(
    http: httpx.AsyncClient,
    base: str,
    posted: list[tuple[str, str, str]],
    stop: asyncio.Event,
    log: Callable[[str], None],
) -> int:
    """One outcome on the first alert of each kind, by its first recipient; how many got 202."""
    reported = 0
    for alert_id, sender, kind in planned(posted):
        recipient = await _first_recipient(http, base, alert_id, sender, stop)
        if stop.is_set():
            break
        if recipient is None:
            log(f"outcome on {alert_id} skipped: not delivered within {DELIVERY_WAIT_S:g} s")
            continue
        outcome = KIND_FOR[kind]
        note = NOTES.get(LANGUAGE.get(recipient, "en"), NOTES["en"])[outcome]
        try:
            resp = await http.post(
                f"{base}/v1/alerts/{alert_id}/outcomes",
                json={"kind": outcome, "note": note},
                headers=_key(recipient),
            )
        except httpx.TransportError as exc:
            log(f"{recipient} → outcome {outcome} on {alert_id}: {type(exc).__name__}")
            continue
        detail = "" if resp.status_code == 202 else f" {resp.text[:100]}"
        log(f"{recipient} → outcome {outcome} on {alert_id} {resp.status_code}{detail}")
        reported += resp.status_code == 202
    return reported
