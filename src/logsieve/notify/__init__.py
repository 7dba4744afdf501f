"""Notifications to people: one module per channel, a durable outbox that retries them."""
