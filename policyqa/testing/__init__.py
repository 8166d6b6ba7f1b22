"""Test and benchmark helpers that ship with the package (as haystack's `testing`): generated PDFs.

Used by tests/, eval/ and bench/ alike; needs the dev extras (reportlab) when called.
"""
