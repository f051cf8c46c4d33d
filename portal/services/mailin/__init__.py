"""The email channel: the complaints mailbox read into drafts and correspondence."""
