"""HTTP handlers."""

import os
import shutil

from flask import Flask, jsonify, request


app = Flask(__name__)

WORKSPACES = "/srv/workspaces"


@app.route("/workspace-delete", methods=["GET", "POST"])
def workspace_delete():
    """Workspace delete."""
    workspace = request.args.get("workspace", "")
    shutil.rmtree(os.path.join(WORKSPACES, workspace))
    return jsonify({"deleted": True})
