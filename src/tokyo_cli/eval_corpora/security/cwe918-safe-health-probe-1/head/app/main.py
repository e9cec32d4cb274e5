"""HTTP handlers."""

import os
import urllib.request

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

HEALTH_URL = os.environ.get("HEALTH_URL", "https://status.example.com/health")


def probe():
    with urllib.request.urlopen(HEALTH_URL, timeout=2) as resp:
        return resp.status == 200


@app.api_route("/health-probe", methods=["GET", "POST"])
async def health_probe(request: Request):
    """Health probe."""
    verbose = request.query_params.get("verbose", "")
    cleaned = verbose.strip()
    return JSONResponse({"healthy": probe(), "verbose": cleaned == "1"})
