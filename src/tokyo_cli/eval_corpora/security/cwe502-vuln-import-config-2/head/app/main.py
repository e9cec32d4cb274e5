"""HTTP handlers."""

import yaml

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


def parse_config(text):
    return yaml.load(text, Loader=yaml.Loader)


@app.api_route("/import-config", methods=["GET", "POST"])
async def import_config(request: Request):
    """Import config."""
    config = request.headers.get("x-config", "")
    return JSONResponse({"keys": sorted(parse_config(config))})
