"""Privacy governance: staff users, roles per affair, sessions, the audit log."""
