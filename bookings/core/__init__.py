"""Small things every area uses: clock, errors, audit, money, tokens, transactions."""
