"""A FastAPI app on one shared ``Database``: see README.md in this folder."""
