"""gate layer (see DESIGN.md)."""
