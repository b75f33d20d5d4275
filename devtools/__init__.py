"""Tools for working on Credit Portal that are not the product: the development stack behind `make run`,
`make test` and `make bench` (``devstack``) and the performance benchmark (``bench``).

Not installed with the product (pyproject.toml), not in the image (.dockerignore), and never imported
by it (an import-linter contract): run from a checkout, as ``python -m devtools.devstack ...``.
"""
