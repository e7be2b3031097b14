"""Lessons as data: reading and checking the TOML files of lessons/ against the views the app can show (course).
Nothing here draws or computes.

Imports from explorer: nothing.
"""
