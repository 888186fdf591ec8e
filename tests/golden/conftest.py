"""The files here are expected output (see tests/test_render.py), not tests: never collect
them (pytest's --doctest-modules would otherwise import each one)."""

collect_ignore_glob = ["*.py"]
