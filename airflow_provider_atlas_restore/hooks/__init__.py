"""Hooks of the MongoDB Atlas restore provider."""
