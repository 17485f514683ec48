"""Streaming snapshot archives to a folder or object storage: resumed, checked and atomic."""
