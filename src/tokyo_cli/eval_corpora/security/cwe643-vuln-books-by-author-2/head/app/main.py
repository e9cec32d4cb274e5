"""HTTP handlers."""

from lxml import etree

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

CATALOG = "/srv/data/catalog.xml"


def titles_by(author):
    root = etree.parse(CATALOG).getroot()
    return [t.text for t in root.xpath("//book[@author='" + author + "']/title")]


@app.api_route("/books-by-author", methods=["GET", "POST"])
async def books_by_author(request: Request):
    """Books by author."""
    author = request.headers.get("x-author", "")
    return JSONResponse({"titles": titles_by(author)})
