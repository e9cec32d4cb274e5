"""HTTP handlers."""

import defusedxml.ElementTree as DefusedET

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/import-feed-defused", methods=["GET", "POST"])
def import_feed_defused():
    """Import feed defused."""
    feed = request.form.get("feed", "")
    doc = DefusedET.fromstring(feed)
    return jsonify({"items": len(doc.findall("item"))})
