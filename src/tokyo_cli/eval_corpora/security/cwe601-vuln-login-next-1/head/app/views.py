"""HTTP handlers."""

from flask import Flask, redirect, request


app = Flask(__name__)


@app.route("/login-next", methods=["GET", "POST"])
def login_next():
    """Login next."""
    next_value = request.args.get("next", "")
    return redirect(next_value)
