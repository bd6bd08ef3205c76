"""`precode serve`: the review in a browser, on the same decision log as the terminal review.

`state` holds the run and each coder's session, `app` the routes and the API, `security` the
token, Host and origin checks, `serve` the start-up; the page is in `static/`.
"""

from pipeline.review.server.app import create_app
from pipeline.review.server.serve import serve_run
from pipeline.review.server.state import ReviewServerState, Verdict

__all__ = ["ReviewServerState", "Verdict", "create_app", "serve_run"]
