"""Report writers: JSONL and CSV, and the HTML contact sheet."""
