"""Limits on inputs, in a module of their own so the command line can show them without
loading numpy or Pillow."""

# Largest image accepted by default: ~100 megapixels (an 8K frame is 33 MP). Guards against
# decompression bombs: tiny files that claim billions of pixels.
DEFAULT_MAX_PIXELS = 100_000_000
