"""Can the agent's model see? The badge, the vision banner, the send checks, Switch model…."""
