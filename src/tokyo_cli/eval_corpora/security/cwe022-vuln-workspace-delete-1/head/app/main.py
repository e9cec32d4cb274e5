"""HTTP handlers."""

import os
import shutil

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

WORKSPACES = "/srv/workspaces"


@app.api_route("/workspace-delete", methods=["GET", "POST"])
async def workspace_delete(request: Request):
    """Workspace delete."""
    workspace = request.cookies.get("workspace", "")
    cleaned = workspace.strip()
    shutil.rmtree(os.path.join(WORKSPACES, cleaned))
    return JSONResponse({"deleted": True})
