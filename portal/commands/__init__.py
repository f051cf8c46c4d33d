"""Command groups of `flask`, one module per area."""
