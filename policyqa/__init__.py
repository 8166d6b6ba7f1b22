"""policyqa: offline, cited question answering over Japanese carbon-offset policy documents."""

__version__ = "0.1.0"
