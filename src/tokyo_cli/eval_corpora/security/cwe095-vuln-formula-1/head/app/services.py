"""Helpers for the formula view."""

import json


def apply_formula(formula, base):
    func = eval("lambda price: " + formula)
    return func(base)
