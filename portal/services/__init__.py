"""The verbs of the portal: each changes state, writes its audit event, flushes, never commits."""
