"""Ingestion: read, clean, repair, convert and split raw pages."""
