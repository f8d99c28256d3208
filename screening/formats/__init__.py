"""One reader per container: completeness checks, metadata blocks, embedded images."""
