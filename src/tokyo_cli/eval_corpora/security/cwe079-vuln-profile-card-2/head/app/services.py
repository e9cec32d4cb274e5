"""Helpers for the profile card view."""

from jinja2 import Environment


CARD = "<div class=\"card\">{{ bio }}</div>"


def render_card(bio):
    env = Environment(autoescape=False)
    return env.from_string(CARD).render(bio=bio)
