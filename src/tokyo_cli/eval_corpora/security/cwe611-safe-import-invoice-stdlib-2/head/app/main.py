"""HTTP handlers."""

import xml.etree.ElementTree as ET

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


def invoice_total(xml_text):
    root = ET.fromstring(xml_text)  # expat: external entities are never fetched
    return sum(float(x.text) for x in root.iter("amount"))


@app.api_route("/import-invoice-stdlib", methods=["GET", "POST"])
async def import_invoice_stdlib(request: Request):
    """Import invoice stdlib."""
    invoice = request.cookies.get("invoice", "")
    return JSONResponse({"total": invoice_total(invoice)})
