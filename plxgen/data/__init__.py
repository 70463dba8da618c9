"""`plxgen data`: converters from data sets to TFRecord files."""
