"""Turns a question and retrieved hits into a cited answer (or an honest abstention)."""
