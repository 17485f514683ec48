"""Triggers of the MongoDB Atlas restore provider."""
