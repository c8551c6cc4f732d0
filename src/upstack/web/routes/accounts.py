"""A team server's people: sign in and out, invitation and reset links, your account and
API tokens, notifications, and the admin's page (members, links, tokens, audit log)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from upstack.domain.access import Audience
from upstack.errors import Forbidden
from upstack.services import accounts
from upstack.web.auth import COOKIE, client_address, set_session
from upstack.web.pages import Page, base_context, page, signed_in, templates, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()
# Forms answer with the page (a link to copy, say); with Accept: application/json, with JSON.
PAGE_OR_JSON: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}, "application/json": {}}}}


def _safe_next(target: str) -> str:
    """Only a path on this server (never //elsewhere or a full URL) to go to after signing in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _form_page(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, template, {**data, **base_context(request), "page_name": template},
                                      status_code=status)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002
    if getattr(request.state, "user", None) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _form_page(request, "login.html", {"next": _safe_next(next), "error": None, "login": ""})


@router.post("/login", summary="Sign in with a user name and password (sets the session cookie)")
def login(request: Request, ws: Annotated[Workspace, Depends(workspace)],
          login: Annotated[str, Form(min_length=1)], password: Annotated[str, Form(min_length=1)],
          next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    from upstack.errors import TooManyAttempts, Unauthorized

    try:
        _, secret = accounts.sign_in(ws, login, password, address=client_address(request))
    except (Unauthorized, TooManyAttempts) as exc:
        return _form_page(request, "login.html", {"next": _safe_next(next), "error": str(exc), "login": login},
                          status=exc.http_status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session(response, request, secret)
    return response


@router.post("/logout", summary="Sign out of this browser")
def logout(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    accounts.end_session(ws, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/join/{secret}", include_in_schema=False)
@router.get("/reset/{secret}", include_in_schema=False)
def link_form(request: Request, secret: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    user, purpose = accounts.link_info(ws, secret)
    return _form_page(request, "join.html", {"who": user, "purpose": purpose, "error": None,
                                             "min_password": accounts.MIN_PASSWORD})


@router.post("/join/{secret}", summary="Accept an invitation (or a reset link): set a password and sign in")
@router.post("/reset/{secret}", summary="Set a new password from a reset link and sign in")
def accept_link(request: Request, secret: str, ws: Annotated[Workspace, Depends(workspace)],
                password: Annotated[str, Form(min_length=1)], again: Annotated[str, Form(min_length=1)]) -> Response:
    from upstack.errors import BadInput

    user, purpose = accounts.link_info(ws, secret)
    try:
        if password != again:
            raise BadInput("the two passwords differ; type the same one twice")
        joined = accounts.accept_link(ws, secret, password, address=client_address(request))
    except BadInput as exc:
        return _form_page(request, "join.html", {"who": user, "purpose": purpose, "error": str(exc),
                                                 "min_password": accounts.MIN_PASSWORD}, status=400)
    # Not sign_in: its throttle (failures from a shared address) would turn the person away
    # after their link was used up, and the password needs no second argon2 check.
    session = accounts.start_session(ws, joined, address=client_address(request))
    response = RedirectResponse("/", status_code=303)
    set_session(response, request, session)
    return response


# -- your account ---------------------------------------------------------------------------

def _account_data(ws: Workspace, me: Audience, **extra: Any) -> dict[str, Any]:
    user = accounts.find_user_any(ws, me.user_id)
    return {"user": user.to_dict(), "tokens": accounts.list_tokens(ws, me.user_id), "new_token": None,
            "min_password": accounts.MIN_PASSWORD, "scopes": list(accounts.SCOPES), **extra}


def _account_answer(request: Request, ws: Workspace, me: Audience, json: dict[str, Any], status: int = 200,
                    **extra: Any) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        from fastapi.responses import JSONResponse

        return JSONResponse(json, status_code=status)
    return _form_page(request, "account.html", _account_data(ws, me, **extra), status=status)


@page(router, "/account", name="account", summary="Your account: sessions, password and API tokens")
def account_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                 me: Annotated[Audience, Depends(signed_in)]) -> Page:
    return Page("account.html", _account_data(ws, me))


@router.post("/account/logout-everywhere", summary="Sign out of every browser; with tokens=true, end your API "
             "tokens too")
def logout_everywhere(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                      me: Annotated[Audience, Depends(signed_in)], tokens: Annotated[bool, Form()] = False) -> Response:
    accounts.end_all_sessions(ws, me.user_id, tokens=tokens, address=client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/account/password", summary="Change your password (the current one first); your other sessions "
             "end, and with end_tokens=true your API tokens", responses=PAGE_OR_JSON)
def change_password(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                    me: Annotated[Audience, Depends(signed_in)], current: Annotated[str, Form(min_length=1)],
                    password: Annotated[str, Form(min_length=1)], again: Annotated[str, Form(min_length=1)],
                    end_tokens: Annotated[bool, Form()] = False) -> Response:
    from upstack.errors import BadInput, Forbidden, TooManyAttempts

    try:
        if password != again:
            raise BadInput("the two new passwords differ; type the same one twice")
        ended = accounts.change_password(ws, accounts.find_user_any(ws, me.user_id), current, password,
                                         keep_session=request.cookies.get(COOKIE, ""), end_tokens=end_tokens,
                                         address=client_address(request))
    except (BadInput, Forbidden, TooManyAttempts) as exc:
        return _account_answer(request, ws, me, {"error": str(exc)}, exc.http_status, password_error=str(exc))
    return _account_answer(request, ws, me, {"sessions_ended": ended}, password_changed=True)


@router.post("/account/tokens", summary="Make an API token for scripts (`upstack login`), after your password; "
             "shown once. scope: full, read-only or sync-only; expires_days: empty for never",
             responses=PAGE_OR_JSON)
def new_token(request: Request, ws: Annotated[Workspace, Depends(workspace)],
              me: Annotated[Audience, Depends(signed_in)], name: Annotated[str, Form(min_length=1)],
              password: Annotated[str, Form(min_length=1)], scope: Annotated[str, Form()] = "full",
              expires_days: Annotated[str, Form()] = "") -> Response:
    from upstack.errors import BadInput, Forbidden, TooManyAttempts

    try:
        days = _days(expires_days)
        accounts.confirm_password(ws, accounts.find_user_any(ws, me.user_id), password,
                                  address=client_address(request))
        token, secret = accounts.create_token(ws, me.user_id, name, scope=scope, expires_days=days,
                                              address=client_address(request))
    except (BadInput, Forbidden, TooManyAttempts) as exc:
        return _account_answer(request, ws, me, {"error": str(exc)}, exc.http_status, token_error=str(exc))
    return _account_answer(request, ws, me, {**token, "secret": secret}, new_token={**token, "secret": secret})


def _days(text: str) -> int | None:
    from upstack.errors import BadInput

    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise BadInput(f"expires_days must be a whole number of days, not {text[:20]!r}") from None


@router.post("/account/tokens/{token_id}/revoke", summary="Revoke one of your API tokens")
def revoke_own_token(request: Request, token_id: str, ws: Annotated[Workspace, Depends(workspace)],
                     me: Annotated[Audience, Depends(signed_in)]) -> Response:
    accounts.revoke_token(ws, token_id, by=me, address=client_address(request))
    return RedirectResponse("/account", status_code=303)


# -- notifications ------------------------------------------------------------------------------

@page(router, "/notifications", name="notifications", summary="Comments on your entries, newest first")
def notifications_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                       me: Annotated[Audience, Depends(signed_in)]) -> Page:
    return Page("notifications.html", {"notifications": accounts.notifications(ws, me.user_id)})


@router.post("/notifications/read", summary="Mark every notification read")
def read_notifications(ws: Annotated[Workspace, Depends(workspace)],
                       me: Annotated[Audience, Depends(signed_in)]) -> Response:
    accounts.mark_read(ws, me.user_id)
    return RedirectResponse("/notifications", status_code=303)


# -- the admin's page ----------------------------------------------------------------------------

def admin(me: Annotated[Audience, Depends(signed_in)]) -> Audience:
    if not me.is_admin:
        raise Forbidden("only an admin may manage members")
    return me


def _admin_data(ws: Workspace, **extra: Any) -> dict[str, Any]:
    return {"users": [u.to_dict() for u in accounts.list_users(ws)], "tokens": accounts.list_tokens(ws),
            "audit": accounts.audit_log(ws), "link": None, **extra}


@page(router, "/admin", name="admin", summary="Members, API tokens and the audit log (admins only)")
def admin_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
               me: Annotated[Audience, Depends(admin)]) -> Page:
    return Page("admin.html", _admin_data(ws))


def _link(request: Request, kind: str, secret: str) -> str:
    return str(request.base_url).rstrip("/") + f"/{kind}/{secret}"


@router.post("/admin/users", summary="Invite someone: make their account and a single-use invitation link",
             responses=PAGE_OR_JSON)
def invite(request: Request, ws: Annotated[Workspace, Depends(workspace)], me: Annotated[Audience, Depends(admin)],
           login: Annotated[str, Form(min_length=1)], name: Annotated[str, Form()] = "",
           make_admin: Annotated[bool, Form(alias="admin")] = False) -> Response:
    user, secret = accounts.add_user(ws, login, name=name or None, admin=make_admin, by=me.user_id)
    link = {"login": user.login, "purpose": "invitation", "url": _link(request, "join", secret)}
    return _admin_result(request, ws, link)


@router.post("/admin/users/{login}/reset", summary="Issue a password-reset link for a member",
             responses=PAGE_OR_JSON)
def reset(request: Request, login: str, ws: Annotated[Workspace, Depends(workspace)],
          me: Annotated[Audience, Depends(admin)]) -> Response:
    secret = accounts.reset_link(ws, login, by=me.user_id, address=client_address(request))
    return _admin_result(request, ws, {"login": login, "purpose": "password reset",
                                       "url": _link(request, "reset", secret)})


@router.post("/admin/users/{login}/remove", summary="Remove a member: sessions end, tokens and shares go",
             responses=PAGE_OR_JSON)
def remove(request: Request, login: str, ws: Annotated[Workspace, Depends(workspace)],
           me: Annotated[Audience, Depends(admin)]) -> Response:
    accounts.remove_user(ws, login, by=me.user_id, address=client_address(request))
    return _admin_result(request, ws, None)


@router.post("/admin/tokens/{token_id}/revoke", summary="Revoke anyone's API token", responses=PAGE_OR_JSON)
def revoke_any_token(request: Request, token_id: str, ws: Annotated[Workspace, Depends(workspace)],
                     me: Annotated[Audience, Depends(admin)]) -> Response:
    accounts.revoke_token(ws, token_id, by=me, address=client_address(request))
    return _admin_result(request, ws, None)


def _admin_result(request: Request, ws: Workspace, link: dict[str, str] | None) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        from fastapi.responses import JSONResponse

        return JSONResponse({"link": link})
    if link is None:
        return RedirectResponse("/admin", status_code=303)
    return _form_page(request, "admin.html", _admin_data(ws, link=link))
