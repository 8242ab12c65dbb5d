"""Dataset export: deduplication, splits, formats, data card."""
