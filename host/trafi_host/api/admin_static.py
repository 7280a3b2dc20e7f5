"""`/admin`: the built dashboard (dashboard/dist), its files and, for every other path below
it, index.html (the single-page app routes in the browser).

The app is the host's own code: no module's JavaScript is ever served here. Every
response forbids framing and loading anything from another origin (no CDN, no
fonts from elsewhere), so a page can reach only this host.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from .errors import ApiError

# Recharts draws with inline styles; nothing else is allowed beyond this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
REPOSITORY_DIST = Path(__file__).resolve().parents[3] / "dashboard" / "dist"


def dashboard_router(dist: Path | None) -> APIRouter:
    """Routes serving the build in `dist` (unset: this repository's dashboard/dist)."""
    root = (dist or REPOSITORY_DIST).resolve()
    router = APIRouter(include_in_schema=False)

    @router.get("/admin")
    async def admin_root() -> Response:
        return RedirectResponse("/admin/", status_code=308)

    @router.get("/admin/{path:path}")
    async def admin_file(path: str, request: Request) -> Response:
        index = root / "index.html"
        if not index.is_file():
            raise ApiError(
                503,
                f"the dashboard is not built ({index} is missing): run `npm ci && npm run build` in "
                "dashboard/ (./bootstrap does), or point TRAFI_DASHBOARD_DIR at a build",
            )
        wanted = (root / path).resolve()
        if path and wanted.is_relative_to(root) and wanted.is_file():
            # Hashed names (assets/index-3f2a.js) never change content: cache them for good.
            immutable = wanted.parent.name == "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(wanted, headers={**SECURITY_HEADERS, "Cache-Control": cache})
        if path.startswith("assets/"):
            raise ApiError(404, f"no dashboard asset {path!r}")
        return FileResponse(index, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    return router
