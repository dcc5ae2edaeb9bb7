"""Stripe Checkout, webhooks, invoices and refunds."""
