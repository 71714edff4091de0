"""Stand-alone dialogs: settings, keyboard shortcuts, the crash report."""
