"""The engine: tensors in, tensors out, no files.

``loop`` is the DeepDream loop (octaves, tiles, masks), ``objectives`` what a dream
amplifies, ``transforms`` the image operations both use, ``tour`` the same photo dreamed at
each layer, and ``runtime`` how the process's threads and memory are set up for dreaming.
"""
