"""The performance benchmark behind ``manage.py bench``: synthetic data at scale (``data``), bulk
loading with COPY (``load``), the public search (``search``) and the disclosure sweep (``sweep``)
measured on it, and the machine it ran on (``machine``)."""
