"""Settings: ``base`` for running the portal, ``test`` for the test suite."""
