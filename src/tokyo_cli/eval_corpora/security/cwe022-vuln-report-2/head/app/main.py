"""HTTP handlers."""

import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

REPORTS = os.environ.get("REPORT_DIR", "/srv/reports")


def read_report(name):
    path = Path(REPORTS) / name
    return path.read_text()


@app.api_route("/report", methods=["GET", "POST"])
async def report(request: Request):
    """Report."""
    report = request.headers.get("x-report", "")
    return JSONResponse({"report": read_report(report)})
