"""Server-rendered pages, one module per area; each exposes ``router``."""
