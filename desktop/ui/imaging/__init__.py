"""Showing untrusted images safely: bounded display decoding, the SVG child process, tiles."""
