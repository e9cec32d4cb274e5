"""HTTP handlers."""

import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


def remember_role(store, role):
    store["role"] = role
    store["role_set_at"] = time.time()


@app.api_route("/store-role", methods=["GET", "POST"])
async def store_role(request: Request):
    """Store role."""
    role = request.cookies.get("role", "")
    cleaned = role.strip()
    remember_role(request.session, cleaned)
    return JSONResponse({"ok": True})
