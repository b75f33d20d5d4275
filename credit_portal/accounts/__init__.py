"""Departments, administrative divisions, people and their roles, API tokens, and the one
capability vocabulary that staff users, entity users and agency tokens are all checked against."""
