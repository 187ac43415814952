"""ops layer (see DESIGN.md)."""
