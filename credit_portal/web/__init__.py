"""What the four doors share: the page layout, the staff dashboard and navigation registries
(filled by each app in ``AppConfig.ready``, so the core never imports a stage app), health checks."""
