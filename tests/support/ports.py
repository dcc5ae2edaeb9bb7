import socket


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bound once, then released for the caller)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
