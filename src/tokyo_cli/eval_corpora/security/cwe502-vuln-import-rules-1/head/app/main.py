"""HTTP handlers."""

import yaml

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


@app.api_route("/import-rules", methods=["GET", "POST"])
async def import_rules(request: Request):
    """Import rules."""
    rules = request.cookies.get("rules", "")
    cleaned = rules.strip()
    rules = yaml.unsafe_load(cleaned)
    return JSONResponse({"count": len(rules)})
