"""HTTP handlers."""

from lxml import etree

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/import-feed", methods=["GET", "POST"])
def import_feed():
    """Import feed."""
    feed = request.args.get("feed", "")
    parser = etree.XMLParser(resolve_entities=True)
    doc = etree.fromstring(feed.encode(), parser)
    return jsonify({"items": len(doc.findall("item"))})
