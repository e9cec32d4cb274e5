"""HTTP handlers."""

from lxml import etree

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/sitemap-upload-hardened", methods=["GET", "POST"])
def sitemap_upload_hardened():
    """Sitemap upload hardened."""
    sitemap = request.form.get("sitemap", "")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    urls = etree.fromstring(sitemap.encode(), parser).findall(".//loc")
    return jsonify({"urls": len(urls)})
