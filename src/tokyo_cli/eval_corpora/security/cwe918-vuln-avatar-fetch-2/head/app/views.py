"""HTTP handlers."""

from flask import Flask, jsonify, request

from app.services import fetch_avatar


app = Flask(__name__)


@app.route("/avatar-fetch", methods=["GET", "POST"])
def avatar_fetch():
    """Avatar fetch."""
    avatar = request.args.get("avatar", "")
    return jsonify({"bytes": fetch_avatar(avatar)})
