"""landflow configuration: settings from the environment and the organisation as data.

Read by both `engine` and `api`; imports neither.
"""
