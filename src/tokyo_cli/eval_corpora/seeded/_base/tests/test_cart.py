import pytest

from shop.cart import Cart


def test_add_accumulates():
    cart = Cart()
    cart.add("a")
    cart.add("a", 2)
    assert cart.items == {"a": 3}


def test_add_rejects_zero():
    with pytest.raises(ValueError):
        Cart().add("a", 0)


def test_remove():
    cart = Cart()
    cart.add("a")
    cart.remove("a")
    assert cart.items == {}
