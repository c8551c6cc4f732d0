"""The app's routes, one module per page family."""

from __future__ import annotations

from upstack.web.routes import (
    accounts,
    contacts,
    due,
    entries,
    ideas,
    ladder,
    opportunities,
    people,
    pipeline,
    portfolio,
    practice,
    review,
    runs,
    search,
    sharing,
    switcher,
    sync,
    timeline,
    tree,
)

ROUTERS = [timeline.router, entries.router, search.router, tree.router, ideas.router, runs.router, review.router,
           ladder.router, practice.router, portfolio.router, opportunities.router, pipeline.router, contacts.router,
           due.router, switcher.router]
# A team server's own pages (sign-in, accounts, sharing, comments, the paths people show their mentors):
# local mode has no accounts.
TEAM_ROUTERS = [sharing.router, accounts.router, sync.router, people.router]

__all__ = ["ROUTERS", "TEAM_ROUTERS"]
