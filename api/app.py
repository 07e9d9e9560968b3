"""The Flask application: a small factory in Flask's own style.

`create_app(landflow, settings)` takes the engine object (built from settings when not given) and
keeps it on `app.extensions["landflow"]`; blueprints reach it through `api.auth.engine()`. Nothing
here is global: two apps on two databases can live in one process (the tests do that).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

from config.settings import Settings
from engine.bootstrap import Landflow, build

from . import auth, bodies, docs, headers, limits, metrics, problems, resources, web
from .schemas.common import ProblemSchema
from .slips import issuer


class IdConverter(IntegerConverter):
    """`<id:x>`: a database id, 1 .. 2**63-1; anything else does not match the route (404)."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=2**63 - 1)


class LandflowApi(Api):
    """flask-smorest, with problem+json as the error format (documented and served)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """api.problems handles every error (registered by create_app)."""

    def _register_responses(self) -> None:
        from http import HTTPStatus

        from flask_smorest.utils import prepare_response

        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "a problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def create_app(landflow: Landflow | None = None, settings: Settings | None = None) -> Flask:
    settings = settings or (landflow.settings if landflow is not None else Settings.from_env())
    lf = landflow or build(settings)
    app = Flask(__name__)
    app.config.update(
        API_TITLE="landflow",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=docs.ASSETS_URL,
        OPENAPI_SWAGGER_UI_CONFIG={"persistAuthorization": True, "tryItOutEnabled": True},
        API_SPEC_OPTIONS={
            "info": {"description": "Land-record dossiers under Vietnam's two-level local government. "
                                    "Errors are application/problem+json; see docs/api.md in the repository."},
            "security": [{"bearer": []}],
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        },
        # a BPMN plus a few DMN files; larger bodies get 413 (JSON bodies have a smaller cap: api/bodies.py)
        MAX_CONTENT_LENGTH=settings.max_bpmn_bytes * 4,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["landflow"] = lf
    problems.register(app)
    auth.init_app(app)
    bodies.init_app(app, settings.max_body_bytes, settings.max_upload_bytes)
    headers.init_app(app)
    metrics.init_app(app, lf)
    issuer.install(app, lambda: lf)
    app.url_map.converters["id"] = IdConverter
    api = LandflowApi(app)
    api.register_converter(IdConverter, lambda c: {"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
    resources.register(api)
    docs.init_app(app)
    web.init_app(app, settings)
    limits.init_app(app, settings.login_rate, settings.lookup_rate)
    logging.getLogger("landflow.api").setLevel(logging.INFO)
    return app
