"""HTTP handlers."""

from lxml import etree

from flask import Flask, jsonify, request


app = Flask(__name__)

ACCOUNTS = "/srv/data/accounts.xml"


@app.route("/login-xpath", methods=["GET", "POST"])
def login_xpath():
    """Login xpath."""
    login = request.args.get("login", "")
    expr = "//account[login='%s' and active='yes']" % login
    found = etree.parse(ACCOUNTS).xpath(expr)
    return jsonify({"exists": bool(found)})
