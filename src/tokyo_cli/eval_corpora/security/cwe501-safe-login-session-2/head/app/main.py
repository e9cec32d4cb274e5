"""HTTP handlers."""

import os
import hashlib
import hmac

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse


app = FastAPI()

USERS = {"alice": {"id": 1, "hash": os.environ.get("ALICE_HASH", "")}}


def authenticate(username, password):
    record = USERS.get(username)
    if record and hmac.compare_digest(record["hash"], hashlib.sha256(password.encode()).hexdigest()):
        return record
    return None


@app.api_route("/login-session", methods=["GET", "POST"])
async def login_session(request: Request):
    """Login session."""
    password = request.cookies.get("password", "")
    user = authenticate("alice", password)
    if user is None:
        raise HTTPException(status_code=400, detail="invalid input")
    request.session["user_id"] = user["id"]
    return JSONResponse({"ok": True})
