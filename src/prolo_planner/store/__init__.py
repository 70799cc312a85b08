"""What the app keeps on disk: atomic file writes (and later the session store)."""
