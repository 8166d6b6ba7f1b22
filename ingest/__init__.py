"""Files and text: load, clean and chunk documents. Knows nothing of vectors."""
