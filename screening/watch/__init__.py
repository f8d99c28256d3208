"""The folder-watch job: inbox events, stability, crash-safe sorting."""
