"""HTTP handlers."""

import re

from lxml import etree

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

CATALOG = "/srv/data/catalog.xml"


def titles_by(author):
    if not re.fullmatch(r"[A-Za-z .-]{1,64}", author):
        raise ValueError("bad author")
    root = etree.parse(CATALOG).getroot()
    return [t.text for t in root.xpath("//book[@author='" + author + "']/title")]


@app.api_route("/books-by-author-checked", methods=["GET", "POST"])
async def books_by_author_checked(request: Request):
    """Books by author checked."""
    author = request.cookies.get("author", "")
    return JSONResponse({"titles": titles_by(author)})
