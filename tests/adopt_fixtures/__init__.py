"""Files the adoption tests (tests/test_adopt.py) hand to real tools."""
