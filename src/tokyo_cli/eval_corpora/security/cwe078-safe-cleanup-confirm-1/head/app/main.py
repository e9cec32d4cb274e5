"""HTTP handlers."""

import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

CLEANUP_CMD = "find /tmp/app-cache -type f -mtime +1 -delete"


def run_cleanup():
    os.system(CLEANUP_CMD)


@app.api_route("/cleanup-confirm", methods=["GET", "POST"])
async def cleanup_confirm(request: Request):
    """Cleanup confirm."""
    confirm = request.query_params.get("confirm", "")
    cleaned = confirm.strip()
    if cleaned == "yes":
        run_cleanup()
    return JSONResponse({"ok": True})
