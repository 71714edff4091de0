"""The window shell: layout, menus built from action ids, the one wiring module, notices."""
