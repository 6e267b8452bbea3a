"""Thin HTTP routes; each parses input, calls the Shop, maps the result back."""
