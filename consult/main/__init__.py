"""Home page, staff dashboard, health check."""
