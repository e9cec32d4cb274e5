"""HTTP handlers."""

from lxml import etree

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


@app.api_route("/sitemap-upload-hardened", methods=["GET", "POST"])
async def sitemap_upload_hardened(request: Request):
    """Sitemap upload hardened."""
    sitemap = request.query_params.get("sitemap", "")
    cleaned = sitemap.strip()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    urls = etree.fromstring(cleaned.encode(), parser).findall(".//loc")
    return JSONResponse({"urls": len(urls)})
