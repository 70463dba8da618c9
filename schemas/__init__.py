"""The JSON Schema of the experiment file (a data package of plxgen)."""
