"""Usage analytics on the client, opt-in: consent and the installation id, the event schema
shared with the registry, the offline queue, the sender, and the install hook."""
