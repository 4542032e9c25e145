"""Assessment: each team against the force's standards, and everything that shows it.

One blueprint, `assessment`, holds three: the JSON API (/api/v1/assessment), the console pages
(/console/assessment) and the public team pages (/teams). Register it with
`app.register_blueprint(server.assessment.bp)`.
"""

from flask import Blueprint

from server.assessment import api, openapi_paths, pages, public
from server.assessment import meetings  # noqa: F401  (registers its routes on pages.bp)

openapi_paths.register()

bp = Blueprint("assessment", __name__)
bp.register_blueprint(api.bp)
bp.register_blueprint(pages.bp)
bp.register_blueprint(public.bp)
