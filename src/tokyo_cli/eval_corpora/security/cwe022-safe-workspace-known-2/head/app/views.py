"""HTTP handlers."""

from flask import Flask, abort, jsonify, request

from app.services import list_workspaces


app = Flask(__name__)


@app.route("/workspace-known", methods=["GET", "POST"])
def workspace_known():
    """Workspace known."""
    workspace = request.form.get("workspace", "")
    if workspace not in list_workspaces():
        abort(400)
    shutil.rmtree(os.path.join(WORKSPACES, workspace))
    return jsonify({"deleted": True})
