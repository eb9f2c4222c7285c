"""xdrgen: an rpcgen for Python. Reads ONC RPC / XDR language (.x) files and writes Python
modules that encode and decode their types byte-exactly."""

__version__ = "0.1.0"
