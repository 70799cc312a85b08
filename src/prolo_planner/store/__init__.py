"""What the app keeps on disk: the session store (SQLite), the image library, plan files."""
