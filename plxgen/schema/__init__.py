"""Name tables and the JSON Schema built from them."""
