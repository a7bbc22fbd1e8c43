#!/usr/bin/python3
"""usage: gst_rtsp_server.py FILE PORT [NAME] [FPS]

A benchmark competitor: a GStreamer RTSP server (gst-rtsp-server) serving
FILE, raw concatenated JPEG frames (as `ffmpeg -f mjpeg` writes), looped
forever at FPS frames per second (default 30) as
rtsp://127.0.0.1:PORT/NAME (default "vga420.mjpeg"): RTP/JPEG (RFC 2435),
payload type 26, packets of at most 1400 bytes, over UDP unicast or
TCP interleaved, from one shared media pipeline:

    appsrc name=src ! rtpjpegpay name=pay0 pt=26 mtu=1400

The file is split into frames once, at start, and kept in memory. The
appsrc is live, in time format, and gets the frames from Python, frame n
(counted across loops) with PTS n/FPS and duration 1/FPS; the RTSP server's
sinks then pace the stream in real time on the pipeline clock. Python
touches each frame once (a shallow buffer copy and its timestamps), never a
packet. When the last client leaves, the shared media is unprepared; the
next DESCRIBE builds a new pipeline.

The RTSP listener and the RTP/RTCP sockets are bound to 127.0.0.1 only.
Prints "ready" on stdout once listening. Logs nothing per session or
packet. Stops on SIGTERM or SIGINT.
"""
import random
import signal
import socket
import struct
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

MTU = 1400
QUEUED_FRAMES = 4  # appsrc's queue limit (need-data comes when it is empty)
BACKLOG = 4096  # listen backlog (gst-rtsp-server's default is 5), as Go uses

# JPEG markers (ITU T.81 table B.1).
SOI, EOI, SOS, TEM = 0xD8, 0xD9, 0xDA, 0x01
RST0, RST7 = 0xD0, 0xD7
SOF_BASELINE = (0xC0, 0xC1)


def jpeg_end(data, i):
    """The offset just past the EOI of the image whose first marker after
    SOI is at i. Walks the marker segments by their lengths; after SOS it
    skips the entropy-coded data, where 0xFF is followed by 0x00 (a
    stuffed byte) or RST0-RST7, to the next marker. Raises EOFError if the
    image is cut short, ValueError if it is malformed."""
    n = len(data)
    while True:
        if i >= n:
            raise EOFError
        if data[i] != 0xFF:
            raise ValueError("want a marker at offset %d, got 0x%02x" % (i, data[i]))
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            raise EOFError
        m = data[i]
        i += 1
        if m == EOI:
            return i
        if m in (SOI, 0x00):
            raise ValueError("unexpected marker 0x%02x at offset %d" % (m, i - 1))
        if m == TEM or RST0 <= m <= RST7:
            continue
        if i + 2 > n:
            raise EOFError
        length = data[i] << 8 | data[i + 1]
        if length < 2:
            raise ValueError("marker 0x%02x at offset %d: bad length" % (m, i - 1))
        i += length
        if m == SOS:
            while True:
                i = data.find(b"\xff", i)
                if i < 0 or i + 1 >= n:
                    raise EOFError
                b = data[i + 1]
                if b == 0x00 or RST0 <= b <= RST7:
                    i += 2
                elif b == 0xFF:
                    i += 1
                else:
                    break


def split_jpegs(data):
    """The JPEG images in data, SOI to EOI. Bytes between images and a
    truncated last image are dropped."""
    frames = []
    i = 0
    while True:
        start = data.find(b"\xff\xd8", i)
        if start < 0:
            return frames
        try:
            end = jpeg_end(data, start + 2)
        except EOFError:
            if frames:
                return frames
            raise ValueError("truncated JPEG at offset %d" % start)
        frames.append(data[start:end])
        i = end


def jpeg_size(frame):
    """(width, height) from the frame's SOF0/SOF1 segment."""
    i = 2
    while i + 4 <= len(frame) and frame[i] == 0xFF:
        m = frame[i + 1]
        length = frame[i + 2] << 8 | frame[i + 3]
        if m in SOF_BASELINE:
            height, width = struct.unpack(">HH", frame[i + 5:i + 9])
            return width, height
        if m == SOS:
            break
        i += 2 + length
    raise ValueError("no baseline SOF in the first frame")


def free_udp_range(pairs=16):
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


class Feeder:
    """Feeds one media pipeline's appsrc with the frames, looping.

    appsrc calls need-data from its streaming thread when its queue is
    empty; each call pushes one frame, which the thread then takes
    downstream at once (queues before the sinks hold the frames waiting for
    their time).
    Frame n gets PTS base + n*dur, where base is the pipeline's running
    time when the first frame is asked for, so a live pipeline that
    started its clock before the first PLAY still gets frames due now,
    not a burst of late ones."""

    def __init__(self, appsrc, buffers, dur):
        self.src = appsrc
        self.buffers = buffers
        self.dur = dur
        self.n = 0
        self.base = None
        appsrc.connect("need-data", self.need_data)

    def running_time(self):
        clock = self.src.get_clock()
        if clock is None:
            return 0
        return max(0, clock.get_time() - self.src.get_base_time())

    def need_data(self, src, _length):
        if self.base is None:
            self.base = self.running_time()
        # A shallow copy shares the frame's memory; only the metadata is new.
        buf = self.buffers[self.n % len(self.buffers)].copy()
        buf.pts = buf.dts = self.base + self.n * self.dur
        buf.duration = self.dur
        buf.offset = self.n
        self.n += 1
        src.emit("push-buffer", buf)


def main():
    if len(sys.argv) < 3 or len(sys.argv) > 5:
        sys.exit(__doc__.strip().splitlines()[0])
    path, port = sys.argv[1], int(sys.argv[2])
    name = sys.argv[3] if len(sys.argv) > 3 else "vga420.mjpeg"
    fps = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    if fps <= 0:
        sys.exit("FPS must be positive")

    with open(path, "rb") as f:
        try:
            frames = split_jpegs(f.read())
        except ValueError as e:
            sys.exit("%s: %s" % (path, e))
    if not frames:
        sys.exit("%s: no JPEG frames" % path)
    width, height = jpeg_size(frames[0])

    Gst.init(None)
    buffers = [Gst.Buffer.new_wrapped(fr) for fr in frames]
    del frames
    dur = Gst.SECOND // fps

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    server.set_backlog(BACKLOG)

    lo, hi = free_udp_range()
    pool = GstRtspServer.RTSPAddressPool.new()
    pool.add_range("127.0.0.1", "127.0.0.1", lo, hi, 0)  # ttl 0: unicast

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( appsrc name=src is-live=true format=time do-timestamp=false "
        "max-buffers=%d block=false "
        "caps=image/jpeg,width=%d,height=%d,framerate=%d/1 ! "
        "rtpjpegpay name=pay0 pt=26 mtu=%d )" % (QUEUED_FRAMES, width, height, fps, MTU))
    factory.set_shared(True)
    factory.set_address_pool(pool)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.TCP)

    feeders = {}  # media -> Feeder, so each stays referenced while prepared

    def on_configure(_factory, media):
        src = media.get_element().get_child_by_name("src")
        feeders[media] = Feeder(src, buffers, dur)
        media.connect("unprepared", lambda m: feeders.pop(m, None))

    factory.connect("media-configure", on_configure)
    server.get_mount_points().add_factory("/" + name, factory)

    if server.attach(None) == 0:
        sys.exit("cannot listen on 127.0.0.1:%d" % port)
    sys.stderr.write("gst_rtsp_server: %d frames %dx%d from %s at %d fps on "
                     "rtsp://127.0.0.1:%d/%s (RTP/RTCP UDP ports %d-%d)\n"
                     % (len(buffers), width, height, path, fps, port, name, lo, hi))
    loop = GLib.MainLoop()
    for s in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, s, loop.quit)
    print("ready", flush=True)
    loop.run()
    # Close the clients (and so the media) before the interpreter goes.
    server.client_filter(lambda _server, _client: GstRtspServer.RTSPFilterResult.REMOVE)


if __name__ == "__main__":
    main()
