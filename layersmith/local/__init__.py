"""Running a function here: `invoke`, its targets, its bootstrap and the layer resolution."""
