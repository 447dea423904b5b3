"""File input and output: images (and, later, video)."""
