"""HTTP handlers."""

import shlex
import subprocess

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


@app.api_route("/ping-host-quoted", methods=["GET", "POST"])
async def ping_host_quoted(request: Request):
    """Ping host quoted."""
    host = request.cookies.get("host", "")
    proc = subprocess.run(f"ping -c 1 {shlex.quote(host)}", shell=True, capture_output=True, text=True)
    return JSONResponse({"output": proc.stdout})
