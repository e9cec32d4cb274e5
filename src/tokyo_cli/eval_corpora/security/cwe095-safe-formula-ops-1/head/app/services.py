"""Helpers for the formula ops view."""

import operator


OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}


def evaluate(op, left, right):
    func = OPERATORS.get(op)
    if func is None:
        raise ValueError("unknown operator")
    return func(left, right)
