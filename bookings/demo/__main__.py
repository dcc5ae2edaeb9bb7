"""`python -m bookings.demo --print-logins` prints the demo logins (no database needed)."""

from bookings.demo import main

if __name__ == "__main__":
    main()
