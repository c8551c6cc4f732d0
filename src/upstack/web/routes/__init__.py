"""The app's routes, one module per page family."""

from __future__ import annotations

from upstack.web.routes import accounts, entries, ideas, review, runs, search, sharing, timeline, tree

ROUTERS = [timeline.router, entries.router, search.router, sharing.router, tree.router, ideas.router, runs.router,
           review.router, accounts.router]

__all__ = ["ROUTERS"]
