"""The Qt-free core: API client, image pipeline, capabilities, drafts, secrets.

Nothing under this package may import Qt; tests/unit/test_layering.py enforces it.
"""
