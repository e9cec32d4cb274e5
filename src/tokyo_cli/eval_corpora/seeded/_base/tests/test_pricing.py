from shop.pricing import discount


def test_save10():
    assert discount(100.0, "SAVE10") == 90.0


def test_unknown_code():
    assert discount(100.0, "NOPE") == 100.0
