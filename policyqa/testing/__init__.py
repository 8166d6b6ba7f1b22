"""Test and benchmark helpers that ship with the package (as haystack's `testing`): generated PDFs (pdfgen),
evaluation stores (corpus) and white-box benchmark measurements (bench).

Used by tests/, eval/ and bench/ alike; needs the dev extras (reportlab) when called.
"""
