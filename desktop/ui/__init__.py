"""The Qt shell: widgets, dialogs, models and delegates. No HTTP, no Pillow calls here."""
