"""Templates for the optional generated answers, read with importlib.resources (answer.llm.prompt)."""
