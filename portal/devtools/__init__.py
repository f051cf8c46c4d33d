"""Local servers for development and tests (never used in production)."""
