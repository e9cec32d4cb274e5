from shop.storage import load, save


def test_round_trip(tmp_path):
    save(tmp_path / "c.json", {"a": 1})
    assert load(tmp_path / "c.json") == {"a": 1}
