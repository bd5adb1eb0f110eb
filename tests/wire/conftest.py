"""Black-box tests of the proxy on the wire: a real `turnout proxy` process between raw HTTP
clients and real HTTP servers on loopback. Nothing here imports the proxy's insides."""
