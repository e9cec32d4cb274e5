"""HTTP handlers."""

import html

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse


app = FastAPI()


@app.api_route("/search-page-escaped", methods=["GET", "POST"])
async def search_page_escaped(request: Request):
    """Search page escaped."""
    q = request.cookies.get("q", "")
    page = "<h1>Results for " + html.escape(q) + "</h1>"
    return HTMLResponse(page)
