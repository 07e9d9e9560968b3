"""Swagger UI served from this server: the assets come from a pinned PyPI package, never a CDN.

flask-smorest renders the Swagger UI page and loads `swagger-ui-bundle.js` and friends from
OPENAPI_SWAGGER_UI_URL. We point that at `/api/docs/assets/` and serve the files of the pinned
`flask-swagger-ui` wheel (it ships swagger-ui-dist's files), so the docs work on an offline intranet.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Flask, Response, abort, send_from_directory

ASSETS_URL = "/api/docs/assets/"
ASSETS_DIR = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
SERVED = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-16x16.png",
          "favicon-32x32.png")


def init_app(app: Flask) -> None:
    @app.get(ASSETS_URL + "<path:filename>")
    def swagger_assets(filename: str) -> Response:
        if filename not in SERVED:
            abort(404)
        return send_from_directory(ASSETS_DIR, filename, max_age=86400)
