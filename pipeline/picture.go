package pipeline

import "image"

// Picture is a decoded frame, for displays that need pixels.
type Picture struct {
	Image image.Image
	Frame *Frame // the JPEG it came from; released with the Picture
}

// Release releases the frame the picture came from.
func (p *Picture) Release() {
	if p.Frame != nil {
		p.Frame.Release()
		p.Frame = nil
	}
}
