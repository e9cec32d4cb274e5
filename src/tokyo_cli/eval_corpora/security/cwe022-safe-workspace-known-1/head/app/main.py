"""HTTP handlers."""

import os
import shutil

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse


app = FastAPI()

WORKSPACES = "/srv/workspaces"


def list_workspaces():
    return {entry.name for entry in os.scandir(WORKSPACES) if entry.is_dir()}


@app.api_route("/workspace-known", methods=["GET", "POST"])
async def workspace_known(request: Request):
    """Workspace known."""
    workspace = request.query_params.get("workspace", "")
    cleaned = workspace.strip()
    if cleaned not in list_workspaces():
        raise HTTPException(status_code=400, detail="invalid input")
    shutil.rmtree(os.path.join(WORKSPACES, cleaned))
    return JSONResponse({"deleted": True})
