"""HTTP handlers."""

import secrets

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

FORMS = ("checkout", "profile")


@app.api_route("/csrf-token", methods=["GET", "POST"])
async def csrf_token(request: Request):
    """Csrf token."""
    form = request.query_params.get("form", "")
    cleaned = form.strip()
    request.session["csrf"] = secrets.token_hex(16)
    return JSONResponse({"form": cleaned in FORMS})
