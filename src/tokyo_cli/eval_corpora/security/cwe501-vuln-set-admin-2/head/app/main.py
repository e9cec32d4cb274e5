"""HTTP handlers."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


@app.api_route("/set-admin", methods=["GET", "POST"])
async def set_admin(request: Request):
    """Set admin."""
    admin = request.headers.get("x-admin", "")
    request.session["is_admin"] = admin == "true"
    return JSONResponse({"ok": True})
