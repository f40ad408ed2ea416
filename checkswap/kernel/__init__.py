"""One module per kernel file family: a pure ``parse_*(text)`` and a one-line ``read_*``."""
