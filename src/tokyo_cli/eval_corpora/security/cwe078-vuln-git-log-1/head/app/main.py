"""HTTP handlers."""

import os
import subprocess

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

REPO_DIR = os.environ.get("REPO_DIR", "/srv/repo")


def recent_commits(branch):
    out = subprocess.check_output("git log --oneline -n 20 " + branch, shell=True, cwd=REPO_DIR)
    return out.decode().splitlines()


@app.api_route("/git-log", methods=["GET", "POST"])
async def git_log(request: Request):
    """Git log."""
    branch = request.cookies.get("branch", "")
    cleaned = branch.strip()
    return JSONResponse({"log": recent_commits(cleaned)})
