package rtsp

import "fmt"

// Interleaved is one "$" frame of RFC 2326 §10.12: RTP or RTCP data sent on
// the RTSP connection itself. On the wire: '$', the channel byte, a 16-bit
// big-endian length, then the data.
type Interleaved struct {
	Channel uint8
	// Data aliases the Reader's buffer to avoid a copy per media packet:
	// it is valid only until the next ReadMessage call.
	Data []byte
}

// MaxInterleavedData is the largest payload one frame can carry.
const MaxInterleavedData = 0xffff

// AppendInterleaved appends one frame to dst. Data longer than
// MaxInterleavedData cannot be framed: rather than panic or send a truncated
// (corrupt) packet it returns dst unchanged. Call CheckInterleaved first when
// the size is not known to fit.
func AppendInterleaved(dst []byte, channel uint8, data []byte) []byte {
	if len(data) > MaxInterleavedData {
		return dst
	}
	dst = append(dst, '$', channel, byte(len(data)>>8), byte(len(data)))
	return append(dst, data...)
}

// CheckInterleaved reports an error if data is too long for one frame.
func CheckInterleaved(data []byte) error {
	if len(data) > MaxInterleavedData {
		return fmt.Errorf("rtsp: interleaved payload of %d bytes exceeds %d", len(data), MaxInterleavedData)
	}
	return nil
}
