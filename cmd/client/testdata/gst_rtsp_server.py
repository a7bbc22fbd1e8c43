#!/usr/bin/python3
"""usage: gst_rtsp_server.py FILE PORT [NAME] [FPS]

A GStreamer RTSP server (GstRtspServer) for the client's interop tests. It
serves FILE, raw concatenated JPEG frames, once (no loop) at FPS frames per
second (default 25) as rtsp://127.0.0.1:PORT/NAME (default "clip"), RTP/JPEG
(RFC 2435) payload type 26, over UDP or TCP-interleaved, from one shared
media pipeline:

    filesrc ! image/jpeg,framerate=FPS/1 ! jpegparse ! rtpjpegpay name=pay0

GStreamer 1.22's jpegparse splits the frames but gives them no timestamps,
so a probe on its source pad stamps frame n with PTS n/FPS; the RTSP
server's sinks then pace the stream in real time.

The RTSP listener and the RTP/RTCP sockets are bound to 127.0.0.1 only.
Prints "ready" on stdout once listening; logs each request on stderr.
Stops on SIGTERM/SIGINT, or by itself after 120 s.
"""
import random
import signal
import socket
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def free_udp_range(pairs=8):
    """An even port with 2*pairs free UDP ports from it on 127.0.0.1."""
    for _ in range(100):
        lo = random.randrange(20000, 60000, 2)
        socks = []
        try:
            for p in range(lo, lo + 2 * pairs):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return lo, lo + 2 * pairs - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    sys.exit("no free UDP port range")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[0])
    path, port = sys.argv[1], int(sys.argv[2])
    name = sys.argv[3] if len(sys.argv) > 3 else "clip"
    fps = int(sys.argv[4]) if len(sys.argv) > 4 else 25

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))

    lo, hi = free_udp_range()
    pool = GstRtspServer.RTSPAddressPool.new()
    pool.add_range("127.0.0.1", "127.0.0.1", lo, hi, 0)  # ttl 0: unicast

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( filesrc location=\"%s\" ! image/jpeg,framerate=%d/1 ! "
        "jpegparse name=parse ! rtpjpegpay name=pay0 pt=26 )" % (path, fps))
    factory.set_shared(True)
    factory.set_address_pool(pool)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.TCP)

    def stamp(_pad, info, count):
        # jpegparse hands each frame on with its only reference, so the
        # timestamps can be set in place.
        buf = info.get_buffer()
        if buf is not None:
            dur = Gst.SECOND // fps
            buf.pts = buf.dts = count[0] * dur
            buf.duration = dur
            count[0] += 1
        return Gst.PadProbeReturn.OK

    def on_configure(_factory, media):
        parse = media.get_element().get_child_by_name("parse")
        parse.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, stamp, [0])
        sys.stderr.write("media configured\n")

    factory.connect("media-configure", on_configure)
    server.get_mount_points().add_factory("/" + name, factory)

    def on_client(_server, client):
        for sig, method in (("describe-request", "DESCRIBE"), ("setup-request", "SETUP"),
                            ("play-request", "PLAY"), ("teardown-request", "TEARDOWN")):
            client.connect(sig, lambda _c, _ctx, m=method: sys.stderr.write(m + "\n"))
    server.connect("client-connected", on_client)

    if server.attach(None) == 0:
        sys.exit("cannot listen on 127.0.0.1:%d" % port)
    loop = GLib.MainLoop()
    for s in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, s, loop.quit)
    GLib.timeout_add_seconds(120, loop.quit)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
