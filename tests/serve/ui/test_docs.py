"""/docs is Swagger UI from this server's own assets: nothing from a CDN."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.serve.conftest import make_client


def test_docs_load_swagger_ui_from_this_server_only(model_dir, tmp_path) -> None:
    with make_client(model_dir, tmp_path) as client:
        page = client.get("/docs")
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)

        assert page.status_code == 200 and "SwaggerUIBundle" in page.text
        assert assets and all(url.startswith("/docs/assets/") for url in assets), assets
        for url in assets:
            assert client.get(url).status_code == 200, url
        assert "cdn" not in page.text.lower()
        assert client.get("/redoc").status_code == 404  # its page would load from a CDN too


def test_the_api_schema_has_no_web_app_pages(model_dir, tmp_path) -> None:
    client: TestClient
    with make_client(model_dir, tmp_path) as client:
        paths = client.get("/openapi.json").json()["paths"]

    assert not [path for path in paths if path.startswith(("/ui", "/docs"))]
