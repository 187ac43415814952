"""The sandbox fixtures live in tests/conftest.py so that every test directory can use them."""
