"""Who may do and see what: sign-in and sessions, visibility, web rules."""
