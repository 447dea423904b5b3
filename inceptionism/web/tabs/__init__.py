"""The studio's tabs, one module each: ``create_ui()`` builds its components,
``create_event_handlers()`` binds its module-level handlers to them."""
