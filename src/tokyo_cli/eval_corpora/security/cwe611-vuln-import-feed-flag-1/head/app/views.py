"""HTTP handlers."""

import os
from lxml import etree

from flask import Flask, jsonify, request


app = Flask(__name__)

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/import-feed-flag", methods=["GET", "POST"])
def import_feed_flag():
    """Import feed flag."""
    feed = (request.get_json(silent=True) or {}).get("feed", "")
    if LEGACY_MODE:
        parser = etree.XMLParser(resolve_entities=True)
        doc = etree.fromstring(feed.encode(), parser)
        return jsonify({"items": len(doc.findall("item"))})
    return jsonify({"disabled": True})
