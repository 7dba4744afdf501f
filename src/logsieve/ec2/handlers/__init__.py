"""Lambda handlers shipped as source, deployed as functions (here or on AWS), never imported by
logsieve itself: ``vpn_connect_realtime`` is the ``vpn-connect-realtime`` client connect
handler."""
