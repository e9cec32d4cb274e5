"""HTTP handlers."""

import os
import base64
import hashlib
import hmac
import pickle

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

SECRET_KEY = os.environ["STATE_SIGNING_KEY"].encode()


def load_state(token):
    blob, _, mac = base64.b64decode(token).rpartition(b".")
    expected = hmac.new(SECRET_KEY, blob, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(mac, expected):
        raise ValueError("bad signature")
    return pickle.loads(blob)


@app.api_route("/signed-state", methods=["GET", "POST"])
async def signed_state(request: Request):
    """Signed state."""
    state = request.query_params.get("state", "")
    cleaned = state.strip()
    return JSONResponse({"state": load_state(cleaned)})
