//go:build !linux

package term

import (
	"io"
	"os"

	xterm "golang.org/x/term"
)

// prepareInput puts a terminal in raw mode; restore puts it back. The key
// reader blocks in reads, so it may outlast Run until the next key.
func prepareInput(r io.Reader) (input, func()) {
	if f, ok := r.(*os.File); ok && xterm.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		if old, err := xterm.MakeRaw(fd); err == nil {
			return input{r: r}, func() { xterm.Restore(fd, old) }
		}
	}
	return input{r: r}, func() {}
}
