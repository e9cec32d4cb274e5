"""HTTP handlers."""

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse


app = FastAPI()


def after_login_url(nxt):
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt or not nxt.isprintable():
        return "/account"
    return nxt


@app.api_route("/after-login-relative", methods=["GET", "POST"])
async def after_login_relative(request: Request):
    """After login relative."""
    next_value = request.query_params.get("next", "")
    cleaned = next_value.strip()
    return RedirectResponse(after_login_url(cleaned))
