"""`/docs`: Swagger UI over the live `/openapi.json` (core and every loaded module's routes).

Its script and style come from the dashboard's build (`dashboard/dist/swagger/`, copied from
the pinned `swagger-ui-dist` package), so a host without internet access still shows its API;
only where the dashboard is not built does the page fall back to FastAPI's CDN copy.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from .admin_static import REPOSITORY_DIST

TITLE = "Trafi module host: API"


def api_docs_router(dist: Path | None) -> APIRouter:
    root = (dist or REPOSITORY_DIST).resolve()
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        if (root / "swagger" / "swagger-ui-bundle.js").is_file():
            return get_swagger_ui_html(
                openapi_url="/openapi.json",
                title=TITLE,
                swagger_js_url="/admin/swagger/swagger-ui-bundle.js",
                swagger_css_url="/admin/swagger/swagger-ui.css",
                swagger_favicon_url="/admin/swagger/favicon-32x32.png",
            )
        return get_swagger_ui_html(openapi_url="/openapi.json", title=TITLE)

    return router
