"""HTTP handlers."""

import yaml

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


def parse_config(text):
    return yaml.safe_load(text)


@app.api_route("/import-config-safe", methods=["GET", "POST"])
async def import_config_safe(request: Request):
    """Import config safe."""
    config = request.cookies.get("config", "")
    return JSONResponse({"keys": sorted(parse_config(config))})
