"""HTTP handlers."""

from lxml import etree

from flask import Flask, jsonify, request


app = Flask(__name__)

ACCOUNTS = "/srv/data/accounts.xml"


@app.route("/login-scan", methods=["GET", "POST"])
def login_scan():
    """Login scan."""
    login = request.form.get("login", "")
    accounts = etree.parse(ACCOUNTS).xpath("//account[active='yes']")
    found = [a for a in accounts if a.findtext("login") == login]
    return jsonify({"exists": bool(found)})
