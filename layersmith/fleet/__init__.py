"""The fleet report: its data, treemap and HTML page."""
