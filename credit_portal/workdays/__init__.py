"""The working-day calendar: the one source of every deadline in the portal."""
