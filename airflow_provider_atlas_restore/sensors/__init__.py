"""Sensors of the MongoDB Atlas restore provider."""
