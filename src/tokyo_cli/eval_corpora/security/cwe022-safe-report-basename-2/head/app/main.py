"""HTTP handlers."""

import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

REPORTS = os.environ.get("REPORT_DIR", "/srv/reports")


def read_report(name):
    path = Path(REPORTS) / os.path.basename(name)
    return path.read_text()


@app.api_route("/report-basename", methods=["GET", "POST"])
async def report_basename(request: Request):
    """Report basename."""
    report = request.cookies.get("report", "")
    return JSONResponse({"report": read_report(report)})
