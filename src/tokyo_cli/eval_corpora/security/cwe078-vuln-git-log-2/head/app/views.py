"""HTTP handlers."""

from flask import Flask, jsonify, request

from app.services import recent_commits


app = Flask(__name__)


@app.route("/git-log", methods=["GET", "POST"])
def git_log():
    """Git log."""
    branch = request.args.get("branch", "")
    return jsonify({"log": recent_commits(branch)})
