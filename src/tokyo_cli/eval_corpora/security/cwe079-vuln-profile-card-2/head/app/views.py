"""HTTP handlers."""

from flask import Flask, make_response, request

from app.services import render_card


app = Flask(__name__)


@app.route("/profile-card", methods=["GET", "POST"])
def profile_card():
    """Profile card."""
    bio = request.args.get("bio", "")
    return make_response(render_card(bio))
