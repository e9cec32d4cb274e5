"""HTTP handlers."""

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse


app = FastAPI()


@app.api_route("/logout-target", methods=["GET", "POST"])
async def logout_target(request: Request):
    """Logout target."""
    target = request.headers.get("x-target", "")
    target = target or "/"
    return RedirectResponse(target)
