"""One module per container: completeness check, metadata blocks, embedded images."""
