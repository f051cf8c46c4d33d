"""Follow-up and learning: the satisfaction call-back and survey (callbacks, survey), closing
with root causes (closing), the root-cause catalogue (catalogue) and improvement actions
(actions). Models: portal/models/followup.py."""
