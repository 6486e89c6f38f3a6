"""/docs (Swagger UI) from assets shipped in a Python package, so it works without internet.

FastAPI's default page loads Swagger UI from a CDN; a machine without internet got a
blank page. swagger-ui-py ships Swagger UI 5 (which renders OpenAPI 3.1, as FastAPI
writes it; the 4.x of swagger-ui-bundle does not), served here under /docs/assets.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def swagger_assets() -> Path:
    return Path(str(files("swagger_ui") / "static"))


def install_docs(app: FastAPI) -> None:
    """GET /docs: Swagger UI over the app's OpenAPI schema, its scripts and styles from this server."""
    app.mount(ASSETS, StaticFiles(directory=swagger_assets()), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - API docs",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png")
