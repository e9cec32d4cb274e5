"""HTTP handlers."""

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse


app = FastAPI()

DESTINATIONS = {"home": "/", "cart": "/cart", "orders": "/account/orders"}


@app.api_route("/logout-mapping", methods=["GET", "POST"])
async def logout_mapping(request: Request):
    """Logout mapping."""
    target = request.cookies.get("target", "")
    target = DESTINATIONS.get(target, "/")
    return RedirectResponse(target)
