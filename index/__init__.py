"""Embeddings, the Chroma store, the keyword index and hybrid search. Owns the model and the stores."""
