"""Retired-scientist mentors and their assignments (built with the Mentors issue)."""
