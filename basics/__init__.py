"""Shared basics at the bottom of the house: the error base class and the Japanese text helpers.

Every room (ingest, index, answer) and every edge may import these; they import nothing of the project.
"""
