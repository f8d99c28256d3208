"""The state database: the only code that runs SQL (results cache, audit trail, watch journal, encodings)."""
