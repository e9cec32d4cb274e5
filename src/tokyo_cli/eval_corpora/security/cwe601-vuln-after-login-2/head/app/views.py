"""HTTP handlers."""

from flask import Flask, redirect, request

from app.services import after_login_url


app = Flask(__name__)


@app.route("/after-login", methods=["GET", "POST"])
def after_login():
    """After login."""
    next_value = request.args.get("next", "")
    return redirect(after_login_url(next_value))
