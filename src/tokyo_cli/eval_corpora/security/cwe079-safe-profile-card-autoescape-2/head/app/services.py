"""Helpers for the profile card autoescape view."""

from jinja2 import Environment, select_autoescape


CARD = "<div class=\"card\">{{ bio }}</div>"


def render_card(bio):
    env = Environment(autoescape=select_autoescape(default_for_string=True))
    return env.from_string(CARD).render(bio=bio)
