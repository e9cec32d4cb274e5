"""HTTP handlers."""

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse


app = FastAPI()


def after_login_url(nxt):
    return nxt if nxt else "/account"


@app.api_route("/after-login", methods=["GET", "POST"])
async def after_login(request: Request):
    """After login."""
    next_value = request.cookies.get("next", "")
    cleaned = next_value.strip()
    return RedirectResponse(after_login_url(cleaned))
