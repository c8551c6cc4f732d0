"""The app's routes, one module per page family."""

from __future__ import annotations

from upstack.web.routes import (
    accounts,
    artifacts,
    contacts,
    due,
    entries,
    ideas,
    ladder,
    opportunities,
    pace,
    panels,
    people,
    pipeline,
    portfolio,
    practice,
    predictions,
    review,
    run_groups,
    run_manage,
    runs,
    search,
    sharing,
    switcher,
    sync,
    takes,
    timeline,
    tree,
)

ROUTERS = [timeline.router, entries.router, search.router, tree.router, ideas.router, run_groups.router, runs.router,
           panels.router, review.router,
           ladder.router, practice.router, portfolio.router, opportunities.router, pipeline.router, contacts.router,
           due.router, predictions.router, takes.router, switcher.router, run_manage.router,
           artifacts.router]
# A team server's own pages (sign-in, accounts, sharing, comments, the paths people show their mentors):
# local mode has no accounts.
TEAM_ROUTERS = [sharing.router, accounts.router, sync.router, people.router]
# Local mode's own pages, for the one owner of the workspace: wellbeing (issue 18) never reaches a
# server, so a team server has no such page at all (a 404, as for any address it has nothing at).
LOCAL_ROUTERS = [pace.router]

__all__ = ["ROUTERS", "TEAM_ROUTERS", "LOCAL_ROUTERS"]
