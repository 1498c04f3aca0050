"""Collection sheets: what is due at a meeting, generating sheets, the posting plan and posting, collection rules, calendars."""
