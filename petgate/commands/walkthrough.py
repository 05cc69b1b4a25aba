"""petgate walkthrough (placeholder replaced below)."""
