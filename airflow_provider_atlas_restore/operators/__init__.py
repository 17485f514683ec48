"""Operators of the MongoDB Atlas restore provider."""
