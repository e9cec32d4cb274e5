"""HTTP handlers."""

from markupsafe import Markup

from flask import Flask, make_response, request


app = Flask(__name__)


@app.route("/greeting", methods=["GET", "POST"])
def greeting():
    """Greeting."""
    name = request.args.get("name", "")
    return make_response(Markup(f"<p>Hello {name}!</p>"))
