package rtpjpeg

// Package-level tables shared by the parser, the packetizer and the
// depacketizer. RFC 2435 only carries quantisation tables (and often not even
// those), so both ends must agree on everything else: the Huffman tables are
// fixed to the ITU T.81 Annex K.3 "typical" tables and the Q 1..99 tables are
// derived from the Annex K.1/K.2 quantisation tables.

// zigzagToNatural maps an index in zigzag order (the order DQT stores
// coefficients in) to the row-major "natural" index of the 8x8 block. The
// Annex K tables are printed in natural order, the wire uses zigzag order, and
// mixing the two up silently produces badly-quantised but decodable images,
// which is why the mapping is spelled out once here.
var zigzagToNatural = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// lumaQuantNatural is ITU T.81 Table K.1 (luminance), natural order.
var lumaQuantNatural = [64]uint8{
	16, 11, 10, 16, 24, 40, 51, 61,
	12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56,
	14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77,
	24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101,
	72, 92, 95, 98, 112, 100, 103, 99,
}

// chromaQuantNatural is ITU T.81 Table K.2 (chrominance), natural order.
var chromaQuantNatural = [64]uint8{
	17, 18, 24, 47, 99, 99, 99, 99,
	18, 21, 26, 66, 99, 99, 99, 99,
	24, 26, 56, 99, 99, 99, 99, 99,
	47, 66, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
}

// Huffman tables of ITU T.81 Annex K.3, each stored exactly as the body of
// one DHT table (16 code-length counts followed by the symbol values, without
// the Tc/Th byte) so that a JPEG's DHT payload can be compared with bytes.Equal
// and the depacketizer can emit them with a single copy.
var (
	stdDCLuma = []byte{
		0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	}
	stdDCChroma = []byte{
		0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	}
	stdACLuma = []byte{
		0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d,
		0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12,
		0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
		0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08,
		0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
		0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16,
		0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
		0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
		0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
		0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
		0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79,
		0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
		0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
		0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
		0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
		0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4,
		0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
		0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
		0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa,
	}
	stdACChroma = []byte{
		0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77,
		0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21,
		0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
		0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91,
		0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
		0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34,
		0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
		0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38,
		0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
		0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
		0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
		0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78,
		0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
		0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96,
		0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
		0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
		0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
		0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2,
		0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
		0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9,
		0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa,
	}
)

// stdHuffman indexes the standard tables the way a DHT addresses them:
// [class][destination], class 0 = DC, 1 = AC; destination 0 = luma,
// 1 = chroma. These are the only destinations RFC 2435 allows.
var stdHuffman = [2][2][]byte{
	{stdDCLuma, stdDCChroma},
	{stdACLuma, stdACChroma},
}

// LumaQuantTable and ChromaQuantTable return the Annex K.1/K.2 tables in
// zigzag order (the order of a DQT segment), i.e. the Q=50 tables.
func LumaQuantTable() [64]byte   { return toZigzag(&lumaQuantNatural) }
func ChromaQuantTable() [64]byte { return toZigzag(&chromaQuantNatural) }

func toZigzag(natural *[64]uint8) (zz [64]byte) {
	for i, n := range zigzagToNatural {
		zz[i] = natural[n]
	}
	return zz
}

// QTablesForQ returns the luma ([0]) and chroma ([1]) tables, in zigzag
// order, that an RFC 2435 receiver derives for a Q value in 1..99 (RFC 2435
// Appendix A, MakeTables). Values outside 1..99 are clamped like the RFC's
// code does. This is also exactly what the IJG library and Go's image/jpeg
// produce for "quality" q, which is why StandardQ usually finds a match for
// JPEGs from those encoders.
func QTablesForQ(q int) [2][64]byte {
	factor := min(max(q, 1), 99)
	var scale int
	if factor < 50 {
		scale = 5000 / factor
	} else {
		scale = 200 - factor*2
	}
	var t [2][64]byte
	for i, n := range zigzagToNatural {
		t[0][i] = scaleQuant(lumaQuantNatural[n], scale)
		t[1][i] = scaleQuant(chromaQuantNatural[n], scale)
	}
	return t
}

func scaleQuant(base uint8, scale int) byte {
	v := (int(base)*scale + 50) / 100
	return byte(min(max(v, 1), 255))
}

// stdQTables caches QTablesForQ for every Q in 1..99 (index q-1) so that
// StandardQ, which runs once per frame on the send path and once per frame in
// the receiver, is a sequence of 128-byte comparisons rather than arithmetic.
var stdQTables = func() (t [99][2][64]byte) {
	for q := 1; q <= 99; q++ {
		t[q-1] = QTablesForQ(q)
	}
	return t
}()

// StandardQ reports whether j's tables are exactly the RFC 2435 tables for
// some Q in 1..99; if so the packetizer may send that Q instead of 128 bytes
// of in-band tables per frame. A JPEG with a single quantisation table never
// matches (its chroma "table" is the luma table), which is correct: the
// receiver would use the standard chroma table instead.
func StandardQ(j *JPEG) (q uint8, ok bool) {
	for i := range stdQTables {
		if stdQTables[i] == j.QTables {
			return uint8(i + 1), true
		}
	}
	return 0, false
}
