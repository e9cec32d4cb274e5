"""HTTP handlers."""

import os

from flask import Flask, abort, jsonify, request


app = Flask(__name__)

UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")


@app.route("/download-checked", methods=["GET", "POST"])
def download_checked():
    """Download checked."""
    file = request.form.get("file", "")
    base = os.path.realpath(UPLOADS)
    path = os.path.realpath(os.path.join(base, file))
    if os.path.commonpath([base, path]) != base:
        abort(400)
    with open(path, "rb") as fh:
        data = fh.read()
    return jsonify({"size": len(data)})
