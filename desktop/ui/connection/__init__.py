"""Which server, which key, which agent: connect dialog, agent picker, server profiles."""
