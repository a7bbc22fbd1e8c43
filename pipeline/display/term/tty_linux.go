package term

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
	xterm "golang.org/x/term"
)

// prepareInput puts a terminal in raw mode, reading with a tenth of a
// second time-out so that the key reader can end with Run. restore puts
// the terminal back as it was.
func prepareInput(r io.Reader) (input, func()) {
	f, ok := r.(*os.File)
	if !ok || !xterm.IsTerminal(int(f.Fd())) {
		return input{r: r}, func() {}
	}
	fd := int(f.Fd())
	old, err := xterm.MakeRaw(fd)
	if err != nil {
		return input{r: r}, func() {}
	}
	restore := func() { xterm.Restore(fd, old) }
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return input{r: r}, restore
	}
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 0, 1
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return input{r: r}, restore
	}
	return input{r: r, polls: true}, restore
}
