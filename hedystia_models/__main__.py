"""``python -m hedystia_models``: the command line."""

from .cli import main

main(prog_name="hedystia-models")
