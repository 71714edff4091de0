"""Light/dark theme and the notice colours, derived from the palette."""
