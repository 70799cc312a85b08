"""Headless subcommands of the prolo-planner command line."""
