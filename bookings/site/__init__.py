"""What every page shares: layout helpers, error pages, security headers, static pages, health."""
