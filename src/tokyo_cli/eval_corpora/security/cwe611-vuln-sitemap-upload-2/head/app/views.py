"""HTTP handlers."""

from lxml import etree

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/sitemap-upload", methods=["GET", "POST"])
def sitemap_upload():
    """Sitemap upload."""
    sitemap = request.args.get("sitemap", "")
    parser = etree.XMLParser(dtd_validation=True, resolve_entities=True)
    urls = etree.fromstring(sitemap.encode(), parser).findall(".//loc")
    return jsonify({"urls": len(urls)})
