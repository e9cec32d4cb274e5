"""HTTP handlers."""

from lxml import etree

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


def invoice_total(xml_text):
    parser = etree.XMLParser(load_dtd=True, no_network=False)
    root = etree.fromstring(xml_text.encode(), parser=parser)
    return sum(float(x.text) for x in root.iter("amount"))


@app.api_route("/import-invoice", methods=["GET", "POST"])
async def import_invoice(request: Request):
    """Import invoice."""
    invoice = request.headers.get("x-invoice", "")
    return JSONResponse({"total": invoice_total(invoice)})
