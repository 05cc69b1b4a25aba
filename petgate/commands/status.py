"""petgate status (placeholder replaced below)."""
