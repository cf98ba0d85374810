"""Table metadata placeholder (the guide's app keeps SQL table definitions here)."""

METADATA: dict = {}
