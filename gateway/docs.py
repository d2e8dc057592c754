"""/docs (Swagger UI) and /redoc, served with their assets by the gateway itself.

Police networks are often offline: FastAPI's own pages load their scripts from a CDN and would
be blank there. The assets come from the `fastapi-offline` package; the pages are ours, so
they start without an inline script (see gateway/static/docs/swagger-init.js).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSETS_URL = "/docs/assets"
OPENAPI_URL = "/openapi.json"
router = APIRouter(include_in_schema=False)

_HEAD = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hotline API</title>
<link rel="icon" href="{ASSETS_URL}/favicon.png">
"""

SWAGGER_HTML = f"""{_HEAD}<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body>
</html>
"""

REDOC_HTML = f"""{_HEAD}</head>
<body>
<redoc spec-url="{OPENAPI_URL}"></redoc>
<script src="/docs/redoc.js"></script>
</body>
</html>
"""


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    """Swagger UI for the partner API."""
    return HTMLResponse(SWAGGER_HTML)


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    """ReDoc for the partner API."""
    return HTMLResponse(REDOC_HTML)


# ReDoc's "powered by" badge is an image on its vendor's CDN: on an offline network (and under
# our CSP) that is a failed request in every officer's console. Served pointing at our own icon.
_REDOC_BADGE = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_js() -> bytes:
    return (
        (ASSETS / "redoc.standalone.js")
        .read_bytes()
        .replace(_REDOC_BADGE, f"{ASSETS_URL}/favicon.png".encode())
    )


@router.get("/docs/redoc.js")
async def redoc_js() -> Response:
    """ReDoc's bundle, with nothing in it that reaches outside."""
    return Response(_redoc_js(), media_type="text/javascript")


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
