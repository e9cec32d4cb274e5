"""HTTP handlers."""

from jinja2 import Environment, select_autoescape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse


app = FastAPI()

CARD = "<div class=\"card\">{{ bio }}</div>"


def render_card(bio):
    env = Environment(autoescape=select_autoescape(default_for_string=True))
    return env.from_string(CARD).render(bio=bio)


@app.api_route("/profile-card-autoescape", methods=["GET", "POST"])
async def profile_card_autoescape(request: Request):
    """Profile card autoescape."""
    bio = request.query_params.get("bio", "")
    cleaned = bio.strip()
    return HTMLResponse(render_card(cleaned))
